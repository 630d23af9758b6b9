#include "support/rss.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

namespace vp::test {

std::map<std::string, std::string> rss_child_env() {
  std::string opts = "quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
  if (const char* existing = std::getenv("ASAN_OPTIONS"); existing && *existing)
    opts = std::string(existing) + ":" + opts;
  return {{"ASAN_OPTIONS", opts}};
}

void expect_flat_rss(const ProxyProcess& proxy, std::uint64_t before_kb, std::string_view what,
                     RssLimits limits) {
  const auto hwm = proxy.status_kb("VmHWM");
  ASSERT_TRUE(hwm.has_value()) << "no VmHWM in /proc/" << proxy.pid() << "/status";
  ::testing::Test::RecordProperty("proxy_rss_before_kb", std::to_string(before_kb));
  ::testing::Test::RecordProperty("proxy_vmhwm_kb", std::to_string(*hwm));
  EXPECT_LT(*hwm - std::min(*hwm, before_kb), limits.growth_kb)
      << "peak RSS " << *hwm << " kB, " << before_kb << " kB before " << what;
  if (!sanitized) {
    EXPECT_LT(*hwm, limits.absolute_kb) << "peak RSS " << *hwm << " kB after " << what;
  }
}

}  // namespace vp::test
