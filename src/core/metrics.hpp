#pragma once
// /__vault-proxy/metrics: a snapshot of the proxy's counters rendered in the Prometheus text
// exposition format 0.0.4. Pure: the proxy fills a MetricsSnapshot, render_prometheus() writes the
// text, and a golden test (tests/unit/metrics_test.cpp) fixes the rendering.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vp::core {

/// Upper bounds of the upstream latency buckets, in seconds (the last bucket, +Inf, is implied).
inline constexpr std::array<double, 11> latency_bounds_s{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                         0.1,   0.25,   0.5,   1.0,  2.5};
inline constexpr std::size_t latency_buckets = latency_bounds_s.size() + 1;

/// The bucket an observation of `d` falls in (latency_buckets - 1 for +Inf).
std::size_t latency_bucket(std::chrono::microseconds d) noexcept;

/// A histogram as counted: per-bucket (not cumulative) counts and the sum.
struct LatencyHistogram {
  std::array<std::uint64_t, latency_buckets> counts{};
  std::uint64_t sum_us = 0;
};

/// Everything /__vault-proxy/metrics reports.
struct MetricsSnapshot {
  std::uint64_t uptime_s = 0;
  std::uint64_t workers = 0;
  std::uint64_t connections_active = 0;
  std::uint64_t requests_proxied = 0;
  std::uint64_t requests_local = 0;
  std::uint64_t requests_refused = 0;
  std::array<std::uint64_t, 5> responses_by_class{};  ///< 1xx … 5xx answered to clients
  std::vector<std::pair<std::string, std::uint64_t>> diagnoses;  ///< name → count, non-zero only
  std::uint64_t upstream_errors = 0;
  LatencyHistogram upstream_latency;  ///< request header sent → response header received
  std::uint64_t pool_idle = 0;
  std::uint64_t pool_reuses = 0;
  std::uint64_t pool_connects = 0;  ///< new upstream connections (full or resumed TLS handshakes)
  std::uint64_t credentials_injected = 0;
  bool credentials_loaded = false;
  std::uint64_t credential_version = 0;
  bool auto_auth = false;
  std::optional<std::int64_t> token_expires_in_s;  ///< auto-auth: until the token expires
  std::optional<std::int64_t> token_max_ttl_in_s;  ///< auto-auth: until the max TTL
  std::uint64_t token_logins = 0;
  std::uint64_t token_renews = 0;
  std::uint64_t token_failures = 0;
  bool policy = false;  ///< a listener has a local policy
  std::uint64_t policy_allowed = 0;
  std::uint64_t policy_refused = 0;
  bool audit = false;  ///< the audit trail is on
  std::uint64_t audit_written = 0;
  std::uint64_t audit_dropped = 0;  ///< the writer's queue was full
  std::uint64_t audit_failed = 0;   ///< the file could not be written
};

/// Prometheus text format 0.0.4: HELP and TYPE lines, then samples; names start `vault_proxy_`.
std::string render_prometheus(const MetricsSnapshot& m);

/// The Content-Type of render_prometheus()'s text.
inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace vp::core
