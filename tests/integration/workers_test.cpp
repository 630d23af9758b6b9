// The default worker count follows the CPUs the process may run on (issue 17): under
// `taskset -c 0` the proxy starts one worker, and status and the start log say why.

#include "support/proxy_fixture.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

namespace {

using namespace vp::test;

constexpr const char* taskset = "/usr/bin/taskset";

class Workers : public ProxyTest {
 protected:
  void SetUp() override {
    if (::access(taskset, X_OK) != 0) GTEST_SKIP() << taskset << " is not installed (util-linux)";
  }

  nlohmann::json status_workers() {
    auto res = http_get(port(), "/__vault-proxy/status");
    EXPECT_EQ(res.status, 200u) << res.body;
    auto j = nlohmann::json::parse(res.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << res.body;
    return j.is_discarded() ? nlohmann::json() : j.value("workers", nlohmann::json());
  }
};

TEST_F(Workers, OneCpuInTheAffinityMaskStartsOneWorker) {
  start(ProxySetup{}.with_launcher({taskset, "-c", "0"}));
  auto w = status_workers();
  EXPECT_EQ(w.value("count", 0), 1) << w.dump();
  EXPECT_EQ(w.value("source", ""), "affinity") << w.dump();
  EXPECT_TRUE(proxy().wait_for_stderr("1 worker thread(s) (source: affinity)", std::chrono::seconds(5)))
      << redacted_stderr();
}

TEST_F(Workers, TheThreadsSettingWinsOverTheAffinityMask) {
  start(ProxySetup{}.with_launcher({taskset, "-c", "0"}).with_env({{"VAULT_PROXY_THREADS", "3"}}));
  auto w = status_workers();
  EXPECT_EQ(w.value("count", 0), 3) << w.dump();
  EXPECT_EQ(w.value("source", ""), "config") << w.dump();
}

}  // namespace
