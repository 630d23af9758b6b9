#include "core/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace vp::core {

namespace {

/// Appends the HELP and TYPE lines of one metric family.
void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void sample(std::string& out, std::string_view name, std::uint64_t v, std::string_view labels = {}) {
  fmt::format_to(std::back_inserter(out), "{}{}{}{} {}\n", name, labels.empty() ? "" : "{", labels,
                 labels.empty() ? "" : "}", v);
}

void one(std::string& out, std::string_view name, std::string_view type, std::string_view help, std::uint64_t v) {
  family(out, name, type, help);
  sample(out, name, v);
}

/// A label value escaped as the text format asks (backslash, double quote, line feed).
std::string label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

void requests(std::string& out, const MetricsSnapshot& m) {
  family(out, "vault_proxy_requests_total", "counter", "Requests read from clients, by how they were served.");
  sample(out, "vault_proxy_requests_total", m.requests_proxied, R"(kind="proxied")");
  sample(out, "vault_proxy_requests_total", m.requests_local, R"(kind="local")");
  sample(out, "vault_proxy_requests_total", m.requests_refused, R"(kind="refused")");
  family(out, "vault_proxy_responses_total", "counter", "Responses sent to clients, by status class.");
  for (std::size_t i = 0; i < m.responses_by_class.size(); ++i)
    sample(out, "vault_proxy_responses_total", m.responses_by_class[i], fmt::format(R"(code="{}xx")", i + 1));
  family(out, "vault_proxy_diagnoses_total", "counter",
         "Answers classified by the proxy (X-Vault-Proxy-Diagnosis), by diagnosis.");
  for (const auto& [name, n] : m.diagnoses)
    sample(out, "vault_proxy_diagnoses_total", n, fmt::format(R"(diagnosis="{}")", label_value(name)));
  one(out, "vault_proxy_upstream_errors_total", "counter", "Upstream faults (connect, TLS, timeout, protocol).",
      m.upstream_errors);
}

void latency(std::string& out, const LatencyHistogram& h) {
  constexpr std::string_view name = "vault_proxy_upstream_latency_seconds";
  family(out, name, "histogram", "From the request header sent upstream to the response header received.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < latency_buckets; ++i) {
    cumulative += h.counts[i];
    std::string le = i < latency_bounds_s.size() ? fmt::format("{}", latency_bounds_s[i]) : "+Inf";
    sample(out, "vault_proxy_upstream_latency_seconds_bucket", cumulative, fmt::format(R"(le="{}")", le));
  }
  fmt::format_to(std::back_inserter(out), "{}_sum {}\n", name, fmt::format("{:.6f}", h.sum_us / 1e6));
  fmt::format_to(std::back_inserter(out), "{}_count {}\n", name, cumulative);
}

void auto_auth(std::string& out, const MetricsSnapshot& m) {
  if (!m.auto_auth) return;
  if (m.token_expires_in_s) {
    family(out, "vault_proxy_token_expires_in_seconds", "gauge", "Auto-auth: seconds until the access token expires.");
    fmt::format_to(std::back_inserter(out), "vault_proxy_token_expires_in_seconds {}\n", *m.token_expires_in_s);
  }
  if (m.token_max_ttl_in_s) {
    family(out, "vault_proxy_token_max_ttl_in_seconds", "gauge",
           "Auto-auth: seconds until the access token reaches its max TTL.");
    fmt::format_to(std::back_inserter(out), "vault_proxy_token_max_ttl_in_seconds {}\n", *m.token_max_ttl_in_s);
  }
  family(out, "vault_proxy_token_operations_total", "counter", "Auto-auth: logins and renews, and failed ones.");
  sample(out, "vault_proxy_token_operations_total", m.token_logins, R"(op="login")");
  sample(out, "vault_proxy_token_operations_total", m.token_renews, R"(op="renew")");
  sample(out, "vault_proxy_token_operations_total", m.token_failures, R"(op="failed")");
}

// Only when a policy or the audit trail is on: the families are absent otherwise.
void guardrails(std::string& out, const MetricsSnapshot& m) {
  if (m.policy) {
    family(out, "vault_proxy_policy_decisions_total", "counter", "Requests the local policy allowed and refused.");
    sample(out, "vault_proxy_policy_decisions_total", m.policy_allowed, R"(decision="allow")");
    sample(out, "vault_proxy_policy_decisions_total", m.policy_refused, R"(decision="refuse")");
  }
  if (m.audit) {
    family(out, "vault_proxy_audit_lines_total", "counter",
           "Audit trail lines written, dropped (queue full) and failed (not writable).");
    sample(out, "vault_proxy_audit_lines_total", m.audit_written, R"(outcome="written")");
    sample(out, "vault_proxy_audit_lines_total", m.audit_dropped, R"(outcome="dropped")");
    sample(out, "vault_proxy_audit_lines_total", m.audit_failed, R"(outcome="failed")");
  }
}

}  // namespace

std::size_t latency_bucket(std::chrono::microseconds d) noexcept {
  const double s = static_cast<double>(d.count()) / 1e6;
  auto it = std::lower_bound(latency_bounds_s.begin(), latency_bounds_s.end(), s);
  return static_cast<std::size_t>(it - latency_bounds_s.begin());
}

std::string render_prometheus(const MetricsSnapshot& m) {
  std::string out;
  one(out, "vault_proxy_uptime_seconds", "gauge", "Seconds since the proxy started.", m.uptime_s);
  one(out, "vault_proxy_workers", "gauge", "Worker threads.", m.workers);
  one(out, "vault_proxy_connections_active", "gauge", "Client connections open now.", m.connections_active);
  requests(out, m);
  latency(out, m.upstream_latency);
  one(out, "vault_proxy_pool_idle_connections", "gauge", "Idle upstream connections in the pools.", m.pool_idle);
  one(out, "vault_proxy_pool_reuses_total", "counter", "Requests sent on a pooled upstream connection.",
      m.pool_reuses);
  one(out, "vault_proxy_upstream_connections_total", "counter",
      "New upstream connections, each with a TLS handshake (full or resumed).", m.pool_connects);
  one(out, "vault_proxy_credentials_injected_total", "counter", "Requests sent upstream with the service token.",
      m.credentials_injected);
  one(out, "vault_proxy_credentials_loaded", "gauge", "1 when a service token is loaded.",
      m.credentials_loaded ? 1 : 0);
  one(out, "vault_proxy_credential_version", "gauge", "The service token's version (1 at start, +1 per reload).",
      m.credential_version);
  auto_auth(out, m);
  guardrails(out, m);
  return out;
}

}  // namespace vp::core
