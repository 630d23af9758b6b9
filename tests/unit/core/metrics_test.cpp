// core/metrics: the Prometheus text rendering, fixed by a golden text.

#include "core/metrics.hpp"

#include <gtest/gtest.h>

namespace {

using namespace vp::core;
using namespace std::chrono_literals;

TEST(LatencyBucket, UpperBoundsAreInclusive) {
  EXPECT_EQ(latency_bucket(0us), 0u);
  EXPECT_EQ(latency_bucket(1000us), 0u);
  EXPECT_EQ(latency_bucket(1001us), 1u);
  EXPECT_EQ(latency_bucket(2500ms), 10u);
  EXPECT_EQ(latency_bucket(2501ms), 11u);
  EXPECT_EQ(latency_bucket(1h), latency_buckets - 1);
}

TEST(RenderPrometheus, GoldenText) {
  MetricsSnapshot m;
  m.uptime_s = 42;
  m.workers = 2;
  m.connections_active = 3;
  m.requests_proxied = 10;
  m.requests_local = 4;
  m.requests_refused = 1;
  m.responses_by_class = {0, 12, 0, 2, 1};
  m.diagnoses = {{"origin_auth", 2}, {"bad\"name\\", 1}};
  m.upstream_errors = 1;
  m.upstream_latency.counts[0] = 5;
  m.upstream_latency.counts[3] = 4;
  m.upstream_latency.counts[11] = 1;
  m.upstream_latency.sum_us = 3'020'500;
  m.pool_idle = 2;
  m.pool_reuses = 8;
  m.pool_connects = 2;
  m.credentials_injected = 10;
  m.credentials_loaded = true;
  m.credential_version = 3;
  m.auto_auth = true;
  m.token_expires_in_s = 2841;
  m.token_max_ttl_in_s = std::nullopt;
  m.token_logins = 1;
  m.token_renews = 4;
  const std::string want = R"(# HELP vault_proxy_uptime_seconds Seconds since the proxy started.
# TYPE vault_proxy_uptime_seconds gauge
vault_proxy_uptime_seconds 42
# HELP vault_proxy_workers Worker threads.
# TYPE vault_proxy_workers gauge
vault_proxy_workers 2
# HELP vault_proxy_connections_active Client connections open now.
# TYPE vault_proxy_connections_active gauge
vault_proxy_connections_active 3
# HELP vault_proxy_requests_total Requests read from clients, by how they were served.
# TYPE vault_proxy_requests_total counter
vault_proxy_requests_total{kind="proxied"} 10
vault_proxy_requests_total{kind="local"} 4
vault_proxy_requests_total{kind="refused"} 1
# HELP vault_proxy_responses_total Responses sent to clients, by status class.
# TYPE vault_proxy_responses_total counter
vault_proxy_responses_total{code="1xx"} 0
vault_proxy_responses_total{code="2xx"} 12
vault_proxy_responses_total{code="3xx"} 0
vault_proxy_responses_total{code="4xx"} 2
vault_proxy_responses_total{code="5xx"} 1
# HELP vault_proxy_diagnoses_total Answers classified by the proxy (X-Vault-Proxy-Diagnosis), by diagnosis.
# TYPE vault_proxy_diagnoses_total counter
vault_proxy_diagnoses_total{diagnosis="origin_auth"} 2
vault_proxy_diagnoses_total{diagnosis="bad\"name\\"} 1
# HELP vault_proxy_upstream_errors_total Upstream faults (connect, TLS, timeout, protocol).
# TYPE vault_proxy_upstream_errors_total counter
vault_proxy_upstream_errors_total 1
# HELP vault_proxy_upstream_latency_seconds From the request header sent upstream to the response header received.
# TYPE vault_proxy_upstream_latency_seconds histogram
vault_proxy_upstream_latency_seconds_bucket{le="0.001"} 5
vault_proxy_upstream_latency_seconds_bucket{le="0.0025"} 5
vault_proxy_upstream_latency_seconds_bucket{le="0.005"} 5
vault_proxy_upstream_latency_seconds_bucket{le="0.01"} 9
vault_proxy_upstream_latency_seconds_bucket{le="0.025"} 9
vault_proxy_upstream_latency_seconds_bucket{le="0.05"} 9
vault_proxy_upstream_latency_seconds_bucket{le="0.1"} 9
vault_proxy_upstream_latency_seconds_bucket{le="0.25"} 9
vault_proxy_upstream_latency_seconds_bucket{le="0.5"} 9
vault_proxy_upstream_latency_seconds_bucket{le="1"} 9
vault_proxy_upstream_latency_seconds_bucket{le="2.5"} 9
vault_proxy_upstream_latency_seconds_bucket{le="+Inf"} 10
vault_proxy_upstream_latency_seconds_sum 3.020500
vault_proxy_upstream_latency_seconds_count 10
# HELP vault_proxy_pool_idle_connections Idle upstream connections in the pools.
# TYPE vault_proxy_pool_idle_connections gauge
vault_proxy_pool_idle_connections 2
# HELP vault_proxy_pool_reuses_total Requests sent on a pooled upstream connection.
# TYPE vault_proxy_pool_reuses_total counter
vault_proxy_pool_reuses_total 8
# HELP vault_proxy_upstream_connections_total New upstream connections, each with a TLS handshake (full or resumed).
# TYPE vault_proxy_upstream_connections_total counter
vault_proxy_upstream_connections_total 2
# HELP vault_proxy_credentials_injected_total Requests sent upstream with the service token.
# TYPE vault_proxy_credentials_injected_total counter
vault_proxy_credentials_injected_total 10
# HELP vault_proxy_credentials_loaded 1 when a service token is loaded.
# TYPE vault_proxy_credentials_loaded gauge
vault_proxy_credentials_loaded 1
# HELP vault_proxy_credential_version The service token's version (1 at start, +1 per reload).
# TYPE vault_proxy_credential_version gauge
vault_proxy_credential_version 3
# HELP vault_proxy_token_expires_in_seconds Auto-auth: seconds until the access token expires.
# TYPE vault_proxy_token_expires_in_seconds gauge
vault_proxy_token_expires_in_seconds 2841
# HELP vault_proxy_token_operations_total Auto-auth: logins and renews, and failed ones.
# TYPE vault_proxy_token_operations_total counter
vault_proxy_token_operations_total{op="login"} 1
vault_proxy_token_operations_total{op="renew"} 4
vault_proxy_token_operations_total{op="failed"} 0
)";
  EXPECT_EQ(render_prometheus(m), want);
}

TEST(RenderPrometheus, WithoutAutoAuthNoTokenFamilies) {
  MetricsSnapshot m;
  auto text = render_prometheus(m);
  EXPECT_EQ(text.find("vault_proxy_token_"), std::string::npos);
  EXPECT_NE(text.find("vault_proxy_upstream_latency_seconds_count 0\n"), std::string::npos);
}

TEST(RenderPrometheus, GuardrailFamiliesOnlyWhenOn) {
  MetricsSnapshot m;
  auto off = render_prometheus(m);
  EXPECT_EQ(off.find("vault_proxy_policy_"), std::string::npos);
  EXPECT_EQ(off.find("vault_proxy_audit_"), std::string::npos);
  m.policy = true;
  m.policy_allowed = 7;
  m.policy_refused = 2;
  m.audit = true;
  m.audit_written = 9;
  m.audit_dropped = 1;
  m.audit_failed = 3;
  auto on = render_prometheus(m);
  const char* want = R"(# HELP vault_proxy_policy_decisions_total Requests the local policy allowed and refused.
# TYPE vault_proxy_policy_decisions_total counter
vault_proxy_policy_decisions_total{decision="allow"} 7
vault_proxy_policy_decisions_total{decision="refuse"} 2
# HELP vault_proxy_audit_lines_total Audit trail lines written, dropped (queue full) and failed (not writable).
# TYPE vault_proxy_audit_lines_total counter
vault_proxy_audit_lines_total{outcome="written"} 9
vault_proxy_audit_lines_total{outcome="dropped"} 1
vault_proxy_audit_lines_total{outcome="failed"} 3
)";
  EXPECT_NE(on.find(want), std::string::npos) << on;
}

}  // namespace
