#include "proxy/local.hpp"

#include "core/diagnosis.hpp"
#include "core/error.hpp"
#include "core/headers.hpp"
#include "core/redact.hpp"
#include "core/request_check.hpp"

#include <fmt/chrono.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <vault_proxy/version.hpp>

namespace vp::proxy {
namespace {

using net::as_tuple;
using net::use_awaitable;
using json = nlohmann::json;

http::response<http::string_body> json_response(http::status status, const json& body,
                                                unsigned version) {
  http::response<http::string_body> res{status, version == 10 ? 10u : 11u};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = body.dump();
  return res;
}

std::string iso8601(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

json reload_json(ReloadStats& r) {
  json out{{"applied", r.applied.load()}, {"refused", r.refused.load()}, {"last", nullptr}};
  std::lock_guard lock(r.mutex);
  if (!r.last_outcome.empty())
    out["last"] = {{"trigger", r.last_trigger}, {"outcome", r.last_outcome},
                   {"message", core::RedactionSet::global().apply(r.last_message)}, {"at", iso8601(r.last_at)}};
  return out;
}

/// Seconds from now to `t` (negative once past).
std::int64_t seconds_until(std::chrono::steady_clock::time_point t, std::chrono::steady_clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::seconds>(t - now).count();
}

/// Auto-auth's state for ready and status: the keeper's state and the token's remaining life (never
/// a token). token_max_ttl_in_s is null when the vault sets no max TTL.
// The listeners' policies by name ("off": none; the Unix socket's is null without a socket) and
// what they decided.
json policy_json(Shared& shared) {
  auto name = [&](std::size_t listener) {
    const auto* p = shared.policies[listener].load(std::memory_order_acquire);
    return json(p ? p->name : std::string("off"));
  };
  const auto& c = shared.counters;
  return {{"tcp", name(Shared::tcp_listener)},
          {"unix_socket", shared.cfg.unix_socket ? name(Shared::unix_listener) : json(nullptr)},
          {"allowed", c.policy_allowed.load()},
          {"refused", c.policy_refused.load()}};
}

// The audit file and what became of its lines (null when the audit trail is off).
json audit_json(Shared& shared) {
  if (!shared.audit) return nullptr;
  const auto st = shared.audit->stats();
  const auto& c = shared.counters;
  return {{"path", shared.audit_path},
          {"records", c.audit_records.load()},
          {"written", st.written},
          {"dropped", st.dropped},
          {"failed", st.failed},
          {"rotations", st.rotations},
          {"last_problem", st.last_problem.empty() ? json(nullptr) : json(st.last_problem)},
          {"peer_lookups", c.peer_lookups.load()},
          {"peer_lookup_us", c.peer_lookup_us.load()}};
}

json auto_auth_json(const net_token::AutoAuth& auth, bool full) {
  const auto now = std::chrono::steady_clock::now();
  auto st = auth.token.status();
  json out{{"state", st.state}, {"token_expires_in_s", nullptr}, {"token_max_ttl_in_s", nullptr}};
  if (!st.reason.empty()) out["reason"] = core::RedactionSet::global().apply(st.reason);
  if (auto t = auth.token.current()) {
    out["token_version"] = t->version;
    out["token_expires_in_s"] = seconds_until(t->times.expires_at, now);
    if (t->times.max_expires_at) out["token_max_ttl_in_s"] = seconds_until(*t->times.max_expires_at, now);
  }
  if (!full) return out;
  out["logins"] = st.logins;
  out["renews"] = st.renews;
  out["login_attempts"] = st.login_attempts;
  out["renew_attempts"] = st.renew_attempts;
  out["failures"] = st.failures;
  json identity{{"loaded", false}};
  if (auto id = auth.identity.current())
    identity = {{"loaded", true}, {"source", id->source}, {"fingerprint", id->fingerprint()},
                {"version", id->version}, {"loaded_at", iso8601(id->loaded_at)}};
  out["identity"] = identity;
  return out;
}

json status_json(Shared& shared) {
  auto& c = shared.counters;
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - shared.started);
  json diagnoses = json::object();
  for (std::size_t i = 0; i < c.diagnoses.size(); ++i) {
    auto n = c.diagnoses[i].load(std::memory_order_relaxed);
    auto name = core::diagnosis_name(static_cast<core::Diagnosis>(i));
    if (n > 0 && !name.empty()) diagnoses[std::string(name)] = n;
  }
  for (std::size_t i = 0; i < c.errors.size(); ++i) {
    auto n = c.errors[i].load(std::memory_order_relaxed);
    if (n > 0) diagnoses[std::string(code_name(static_cast<core::ErrorCode>(i)))] = n;
  }
  json last = nullptr;
  {
    std::lock_guard lock(shared.last_error_mutex);
    if (shared.last_error)
      last = {{"code", shared.last_error->code},
              {"detail", core::RedactionSet::global().apply(shared.last_error->detail)},
              {"at", iso8601(shared.last_error->at)}};
  }
  json creds{{"loaded", false}};
  if (auto tok = shared.creds.current())
    creds = {{"loaded", true}, {"source", tok->source}, {"fingerprint", tok->fingerprint()},
             {"version", tok->version}, {"loaded_at", iso8601(tok->loaded_at)}};
  creds["reloads"] = reload_json(shared.reloads);
  return {{"pid", ::getpid()},
          {"version", vp::version},
          {"listen", shared.cfg.listen},
          {"port", shared.policy.port},
          {"upstream", shared.cfg.upstream.url()},
          {"uptime_s", uptime.count()},
          {"workers", {{"count", shared.workers.count}, {"source", core::worker_source_name(shared.workers.source)}}},
          {"connections", shared.connections.load(std::memory_order_relaxed)},
          {"requests",
           {{"total", c.requests.load()},
            {"proxied", c.proxied.load()},
            {"local", c.local.load()},
            {"refused", c.refused.load()},
            {"upstream_errors", c.upstream_errors.load()}}},
          {"diagnoses", diagnoses},
          {"headers",
           {{"credentials_injected", c.credentials_injected.load()},
            {"client_credentials_removed", c.client_credentials_removed.load()},
            {"underscore_fields_removed", c.underscore_fields_removed.load()},
            {"access_cookies_removed", c.access_cookies_removed.load()},
            {"placeholders_replaced", c.placeholders_replaced.load()},
            {"local_auth_answers", c.local_auth_answers.load()},
            {"local_logins_refused", c.local_logins_refused.load()}}},
          {"last_error", last},
          {"credentials", creds},
          {"auto_auth", shared.auto_auth ? auto_auth_json(*shared.auto_auth, true) : json(nullptr)},
          {"policy", policy_json(shared)},
          {"audit", audit_json(shared)}};
}

/// /__vault-proxy/ready's body and status from a probe result, and with auto-auth the token's state:
/// ready needs both a 200 from the upstream and a usable token.
http::response<http::string_body> ready_response(Shared& shared, const ProbeResult& probe, unsigned version) {
  bool ready = probe.ready;
  json body{{"ready", ready}, {"upstream", shared.cfg.upstream.url()}};
  if (probe.upstream_status != 0) body["upstream_status"] = probe.upstream_status;
  if (!probe.ready) body["reason"] = probe.reason;
  if (!probe.diagnosis.empty()) body["diagnosis"] = probe.diagnosis;
  if (auto* auth = shared.auto_auth) {
    auto state = auto_auth_json(*auth, false);
    body["token_expires_in_s"] = state["token_expires_in_s"];
    body["token_max_ttl_in_s"] = state["token_max_ttl_in_s"];
    body["auto_auth"] = state;
    if (ready && !auth->token.usable()) {
      ready = false;
      body["reason"] = fmt::format("auto-auth has no usable access token ({}{}{})", auth->token.status().state,
                                   state.contains("reason") ? ": " : "",
                                   state.value("reason", std::string()));
    }
    body["ready"] = ready;
  }
  return json_response(ready ? http::status::ok : http::status::service_unavailable, body, version);
}

/// The pool figures of one worker, read on that worker's own thread.
struct PoolFigures {
  std::uint64_t idle = 0, reuses = 0, connects = 0;
};

net::awaitable<PoolFigures> pool_figures(Worker& w) {
  const auto& s = w.pool.stats();
  co_return PoolFigures{w.pool.idle_count(), s.reuses, s.connects};
}

/// The counters of the whole proxy; pool figures are gathered from each worker on its thread.
net::awaitable<core::MetricsSnapshot> metrics_snapshot(Worker& here) {
  auto& shared = here.shared;
  auto& c = shared.counters;
  core::MetricsSnapshot m;
  m.uptime_s = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - shared.started).count());
  m.workers = shared.workers.count;
  m.connections_active = shared.connections.load(std::memory_order_relaxed);
  m.requests_proxied = c.proxied.load();
  m.requests_local = c.local.load();
  m.requests_refused = c.refused.load();
  for (std::size_t i = 0; i < m.responses_by_class.size(); ++i) m.responses_by_class[i] = c.responses_by_class[i].load();
  for (std::size_t i = 0; i < c.diagnoses.size(); ++i) {
    auto name = core::diagnosis_name(static_cast<core::Diagnosis>(i));
    if (auto n = c.diagnoses[i].load(); n > 0 && !name.empty()) m.diagnoses.emplace_back(name, n);
  }
  for (std::size_t i = 0; i < c.errors.size(); ++i)
    if (auto n = c.errors[i].load(); n > 0) m.diagnoses.emplace_back(code_name(static_cast<core::ErrorCode>(i)), n);
  m.upstream_errors = c.upstream_errors.load();
  for (std::size_t i = 0; i < core::latency_buckets; ++i) m.upstream_latency.counts[i] = c.upstream_latency[i].load();
  m.upstream_latency.sum_us = c.upstream_latency_sum_us.load();
  m.credentials_injected = c.credentials_injected.load();
  if (auto tok = shared.creds.current()) {
    m.credentials_loaded = true;
    m.credential_version = tok->version;
  }
  // While draining, other workers' io_contexts may already be stopped: only this one is asked.
  const bool draining = shared.draining.load(std::memory_order_relaxed);
  for (Worker* w : shared.worker_list) {
    if (w != &here && draining) continue;
    auto f = w == &here ? co_await pool_figures(*w) : co_await net::co_spawn(w->ioc, pool_figures(*w), use_awaitable);
    m.pool_idle += f.idle;
    m.pool_reuses += f.reuses;
    m.pool_connects += f.connects;
  }
  if (auto* auth = shared.auto_auth) {
    m.auto_auth = true;
    const auto now = std::chrono::steady_clock::now();
    if (auto t = auth->token.current()) {
      m.token_expires_in_s = seconds_until(t->times.expires_at, now);
      if (t->times.max_expires_at) m.token_max_ttl_in_s = seconds_until(*t->times.max_expires_at, now);
    }
    auto st = auth->token.status();
    m.token_logins = st.logins;
    m.token_renews = st.renews;
    m.token_failures = st.failures;
  }
  m.policy = shared.policies[Shared::tcp_listener].load() != nullptr || shared.policies[Shared::unix_listener].load() != nullptr;
  m.policy_allowed = shared.counters.policy_allowed.load(std::memory_order_relaxed);
  m.policy_refused = shared.counters.policy_refused.load(std::memory_order_relaxed);
  if (shared.audit) {
    const auto st = shared.audit->stats();
    m.audit = true;
    m.audit_written = st.written;
    m.audit_dropped = st.dropped;
    m.audit_failed = st.failed;
  }
  co_return m;
}

}  // namespace

net::awaitable<ProbeResult> probe_upstream(Worker& w) {
  auto& shared = w.shared;
  const auto& t = shared.cfg.timeouts;
  ProbeResult r;
  r.at = std::chrono::steady_clock::now();
  auto token = shared.creds.current();
  if (!token) {
    r.reason = "no Cloudflare Access service token is loaded (set CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET)";
    co_return r;
  }
  auto conn = w.pool.take_idle();
  if (!conn) {
    auto cr = co_await w.pool.connect();
    if (cr.error) {
      r.reason = std::string(code_name(*cr.error)) + ": " + cr.detail;
      co_return r;
    }
    conn = std::move(cr.connection);
  }
  http::request<http::empty_body> req{http::verb::get, shared.cfg.ready_probe_path, 11};
  req.set(http::field::accept, "application/json");
  core::rewrite_request(req, {shared.host_header, shared.cfg.user_agent, token.get()});
  conn->stream.expires_after(t.upstream_header);
  auto [wec, wn] = co_await http::async_write(conn->stream, req, as_tuple(use_awaitable));
  if (wec) {
    r.reason = "upstream_closed: sending the probe: " + wec.message();
    co_return r;
  }
  http::response_parser<http::string_body> rp;
  rp.body_limit(64 * 1024);
  auto [rec, rn] = co_await http::async_read(conn->stream, conn->buffer, rp, as_tuple(use_awaitable));
  if (rec) {
    r.reason = std::string(rec == beast::error::timeout ? "upstream_timeout" : "upstream_protocol") +
               ": reading the probe response: " + rec.message();
    co_return r;
  }
  auto& res = rp.get();
  r.upstream_status = res.result_int();
  if (r.upstream_status == 200) {
    r.ready = true;
  } else {
    auto d = core::classify(core::response_facts(r.upstream_status, res, res.body()));
    r.diagnosis = std::string(core::diagnosis_name(d));
    r.reason = fmt::format("the upstream answered {} to GET {} through Cloudflare Access{}{}",
                           r.upstream_status, shared.cfg.ready_probe_path,
                           d == core::Diagnosis::none ? "" : ": ", core::diagnosis_message(d));
  }
  if (rp.keep_alive()) w.pool.give_back(std::move(conn));
  co_return r;
}

net::awaitable<http::response<http::string_body>> handle_local(Worker& w,
                                                             const http::request_header<>& req) {
  auto& shared = w.shared;
  auto path = req.target().substr(0, req.target().find('?'));
  auto name = path.substr(std::min(path.size(), core::local_prefix.size()));
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    auto res = json_response(http::status::method_not_allowed,
                             {{"message", "local endpoints answer GET and HEAD only"},
                              {"error", code_name(core::ErrorCode::method_not_allowed)}},
                             req.version());
    res.set(http::field::allow, "GET, HEAD");
    res.set("X-Vault-Proxy-Error", code_name(core::ErrorCode::method_not_allowed));
    co_return res;
  }
  if (name == "health") {
    co_return json_response(http::status::ok, {{"status", "ok"}, {"version", vp::version}},
                            req.version());
  }
  if (name == "ready") {
    ProbeResult cached;
    {
      std::lock_guard lock(shared.probe_mutex);
      cached = shared.probe;
    }
    auto now = std::chrono::steady_clock::now();
    bool fresh = cached.at != std::chrono::steady_clock::time_point{} &&
                 now - cached.at < shared.cfg.ready_cache;
    if (!fresh || !shared.creds.current()) {
      cached = co_await probe_upstream(w);
      std::lock_guard lock(shared.probe_mutex);
      shared.probe = cached;
    }
    co_return ready_response(shared, cached, req.version());
  }
  if (name == "status") co_return json_response(http::status::ok, status_json(shared), req.version());
  if (name == "metrics") {
    http::response<http::string_body> res{http::status::ok, req.version() == 10 ? 10u : 11u};
    res.set(http::field::content_type, core::prometheus_content_type);
    res.set(http::field::cache_control, "no-store");
    res.body() = core::render_prometheus(co_await metrics_snapshot(w));
    co_return res;
  }
  auto res = json_response(http::status::not_found,
                           {{"message", fmt::format("vault-proxy has no local endpoint '{}'; try "
                                                    "/__vault-proxy/health, /__vault-proxy/ready, /__vault-proxy/status or /__vault-proxy/metrics",
                                                    std::string(path))},
                            {"error", code_name(core::ErrorCode::not_found)}},
                           req.version());
  res.set("X-Vault-Proxy-Error", code_name(core::ErrorCode::not_found));
  co_return res;
}

}  // namespace vp::proxy
