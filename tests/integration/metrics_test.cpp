// /__vault-proxy/metrics (issue 16): the Prometheus text reflects what the proxy did, and is
// answered locally like status. `promtool check metrics` runs on it where the tool is installed.

#include "support/proxy_fixture.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <regex>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;

/// The value of the sample `line_start` (the metric name with its labels), or -1.
double sample(const std::string& text, const std::string& line_start) {
  auto pos = text.find("\n" + line_start + " ");
  if (pos == std::string::npos) return -1;
  return std::stod(text.substr(pos + line_start.size() + 2));
}

class Metrics : public ProxyTest {};

TEST_F(Metrics, CountsRequestsResponsesLatencyAndThePool) {
  start(ProxySetup{}.with_handler([](const RecordedRequest& r) {
    return r.target == "/missing" ? Response::text(404, R"({"message":"nope","error":"NotFound"})", "application/json")
                                  : Response::text(200, "ok");
  }).with_env({{"VAULT_PROXY_THREADS", "1"}}));
  ASSERT_TRUE(upstream().wait_for_handshakes(1, 10s));  // the connection the worker opens at start
  {
    HttpClient c(port());
    for (int i = 0; i < 5; ++i) ASSERT_EQ(c.request({.target = "/api/status"}).status, 200u);
    EXPECT_EQ(c.request({.target = "/missing"}).status, 404u);
  }
  auto r = http_get(port(), "/__vault-proxy/metrics");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& t = r.body;
  EXPECT_EQ(sample(t, R"(vault_proxy_requests_total{kind="proxied"})"), 6);
  EXPECT_EQ(sample(t, R"(vault_proxy_responses_total{code="2xx"})"), 5);
  EXPECT_EQ(sample(t, R"(vault_proxy_responses_total{code="4xx"})"), 1);
  EXPECT_EQ(sample(t, "vault_proxy_upstream_latency_seconds_count"), 6);
  EXPECT_GT(sample(t, "vault_proxy_upstream_latency_seconds_sum"), 0);
  EXPECT_EQ(sample(t, "vault_proxy_upstream_connections_total"), 1) << "one connection, reused";
  EXPECT_EQ(sample(t, "vault_proxy_pool_reuses_total"), 6) << "every request, the first too, found it pooled";
  EXPECT_EQ(sample(t, "vault_proxy_credential_version"), 1);
  EXPECT_EQ(sample(t, "vault_proxy_credentials_injected_total"), 6);
  EXPECT_EQ(t.find("vault_proxy_token_"), std::string::npos) << "no auto-auth families without auto-auth";
  EXPECT_EQ(upstream().request_count(), 6u) << "metrics are answered locally";

  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    TempDir d;
    write_file(d.file("m.txt"), t);
    EXPECT_EQ(std::system(("promtool check metrics < " + d.file("m.txt")).c_str()), 0);
  }
}

}  // namespace
