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
            {"access_cookies_removed", c.access_cookies_removed.load()}}},
          {"last_error", last},
          {"credentials", creds}};
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
    json body{{"ready", cached.ready}, {"upstream", shared.cfg.upstream.url()}};
    if (cached.upstream_status != 0) body["upstream_status"] = cached.upstream_status;
    if (!cached.ready) body["reason"] = cached.reason;
    if (!cached.diagnosis.empty()) body["diagnosis"] = cached.diagnosis;
    co_return json_response(cached.ready ? http::status::ok : http::status::service_unavailable,
                            body, req.version());
  }
  if (name == "status") co_return json_response(http::status::ok, status_json(shared), req.version());
  auto res = json_response(http::status::not_found,
                           {{"message", fmt::format("vault-proxy has no local endpoint '{}'; try "
                                                    "/__vault-proxy/health, /__vault-proxy/ready or /__vault-proxy/status",
                                                    std::string(path))},
                            {"error", code_name(core::ErrorCode::not_found)}},
                           req.version());
  res.set("X-Vault-Proxy-Error", code_name(core::ErrorCode::not_found));
  co_return res;
}

}  // namespace vp::proxy
