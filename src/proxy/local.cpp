#include "proxy/local.hpp"

#include "core/error.hpp"
#include "core/headers.hpp"
#include "core/request_check.hpp"

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
  auto& tcp_layer = beast::get_lowest_layer(conn->stream);
  tcp_layer.expires_after(t.upstream_header);
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
    r.reason = fmt::format("the upstream answered {} to GET {} through Cloudflare Access",
                           r.upstream_status, shared.cfg.ready_probe_path);
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
                              {"error", code_name(ErrorCode::method_not_allowed)}},
                             req.version());
    res.set(http::field::allow, "GET, HEAD");
    res.set("X-Vault-Proxy-Error", code_name(ErrorCode::method_not_allowed));
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
    co_return json_response(cached.ready ? http::status::ok : http::status::service_unavailable,
                            body, req.version());
  }
  auto res = json_response(http::status::not_found,
                           {{"message", fmt::format("vault-proxy has no local endpoint '{}'; try "
                                                    "/__vault-proxy/health or /__vault-proxy/ready",
                                                    std::string(path))},
                            {"error", code_name(ErrorCode::not_found)}},
                           req.version());
  res.set("X-Vault-Proxy-Error", code_name(ErrorCode::not_found));
  co_return res;
}

}  // namespace vp::proxy
