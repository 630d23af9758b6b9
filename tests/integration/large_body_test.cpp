// Large bodies each way through the real binary: they arrive intact (digest) and the proxy's peak RSS
// stays flat, i.e. it streams rather than buffers.

#include "support/digest.hpp"
#include "support/proxy_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;

// GCC defines __SANITIZE_ADDRESS__; clang answers __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

/// 200 MiB each way, as the issue asks (about 30 s for both under the ASan dev preset on a busy
/// 2-core machine). VP_IT_BIG_MB overrides the size for a quick local run; the RSS-growth bound
/// below still tells streaming (under 1 MiB of growth measured) from buffering down to ~32 MiB.
std::uint64_t big_size() {
  const char* mb = std::getenv("VP_IT_BIG_MB");
  return (mb && *mb ? std::strtoull(mb, nullptr, 10) : 200ull) * 1024 * 1024;
}
const std::uint64_t big = big_size();

/// Peak RSS may grow this much over the RSS measured just before the transfer (after a warm-up
/// request on the same connections). A buffering proxy grows by at least the body size.
constexpr std::uint64_t growth_limit_kb = 16 * 1024;
/// Absolute peak RSS, checked only without sanitizers: ASan's own image and shadow make an idle
/// dev-preset proxy about 230 MB resident whatever it does.
constexpr std::uint64_t rss_limit_kb = 64 * 1024;

/// ASan's quarantine keeps freed memory resident (256 MB by default), which would hide the
/// difference between streaming and buffering; switch it off for the child.
std::map<std::string, std::string> child_env() {
  std::string opts = "quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
  if (const char* existing = std::getenv("ASAN_OPTIONS"); existing && *existing)
    opts = std::string(existing) + ":" + opts;
  return {{"ASAN_OPTIONS", opts}};
}

/// Asserts the RSS bounds and records the numbers in the test's XML output.
void expect_flat_rss(ProxyProcess& proxy, std::uint64_t before_kb) {
  const auto hwm = proxy.status_kb("VmHWM");
  ASSERT_TRUE(hwm.has_value()) << "no VmHWM in /proc/" << proxy.pid() << "/status";
  ::testing::Test::RecordProperty("proxy_rss_before_kb", std::to_string(before_kb));
  ::testing::Test::RecordProperty("proxy_vmhwm_kb", std::to_string(*hwm));
  ::testing::Test::RecordProperty("body_bytes", std::to_string(big));
  EXPECT_LT(*hwm - std::min(*hwm, before_kb), growth_limit_kb)
      << "peak RSS " << *hwm << " kB, " << before_kb << " kB before a " << big / (1024 * 1024) << " MiB body";
  if (!sanitized) {
    EXPECT_LT(*hwm, rss_limit_kb) << "peak RSS " << *hwm << " kB";
  }
}

class LargeBodies : public ProxyTest {};

TEST_F(LargeBodies, LargeDownloadIsStreamedWithFlatRss) {
  start(ProxySetup{}
            .with_handler([](const RecordedRequest& r) {
              Response resp;
              resp.generated_body = r.target == "/big" ? big : std::uint64_t{1};
              resp.chunk_size = 256 * 1024;  // Content-Length framing; chunked is covered in forwarding_test
              return resp;
            })
            .with_env(child_env()));
  HttpClient c(port(), 60s);
  ClientRequest warm;
  warm.target = "/warm";
  ASSERT_EQ(c.request(warm).status, 200u);
  const auto before = proxy().status_kb("VmRSS").value_or(0);

  ClientRequest req;
  req.target = "/big";
  c.send(req);
  auto res = c.read_response(ReadOptions::streaming());
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.body_size, big);
  EXPECT_EQ(res.body_sha256, PatternBody::sha256(big));

  expect_flat_rss(proxy(), before);
}

TEST_F(LargeBodies, LargeUploadIsStreamedWithFlatRss) {
  start(ProxySetup{}.with_store_body_limit(1024).with_env(child_env()));
  HttpClient c(port(), 60s);
  ClientRequest warm;  // warms the request-body path too
  warm.method = "PUT";
  warm.target = "/warm";
  warm.body = PatternBody::make(100'000);
  ASSERT_EQ(c.request(warm).status, 200u);
  const auto before = proxy().status_kb("VmRSS").value_or(0);

  ClientRequest req;
  req.method = "PUT";
  req.target = "/upload";
  c.send_generated(req, big, 256 * 1024);
  auto res = c.read_response();
  EXPECT_EQ(res.status, 200u);
  auto reqs = upstream().requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_TRUE(reqs[1].body_complete);
  EXPECT_EQ(reqs[1].body_size, big);
  EXPECT_EQ(reqs[1].body_sha256, PatternBody::sha256(big));

  expect_flat_rss(proxy(), before);
}

}  // namespace
