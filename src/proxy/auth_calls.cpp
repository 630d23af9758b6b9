// Auto-auth's local answers (docs/auto-auth.md): with auto-auth on, the proxy owns Infisical's auth
// endpoints. A universal-auth login with the identity's own credentials gets the local placeholder;
// any other login is refused here, never sent upstream, where a wrong secret would count towards
// the identity's lockout. A renew or revoke of the placeholder is acknowledged; the real token is
// the proxy's alone, so a renew or revoke of any other token is refused too. The verdicts are
// core/token_life's.

#include "proxy/session.hpp"

#include "core/error.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace vp::proxy::detail {
namespace {

using net::as_tuple;
using net::use_awaitable;

// A login body is a client id and secret in JSON: a few hundred bytes.
constexpr std::size_t auth_body_limit = 16 * 1024;

std::string refusal_body(std::string_view message) {
  return nlohmann::json{{"statusCode", 401}, {"message", message}, {"error", "UnauthorizedError"}}.dump();
}

}  // namespace

// Reads a whole request body of at most `limit` bytes; nullopt when it is longer or broken. Every
// byte goes straight into storage reserved up front and is wiped with it: it holds a secret.
template <class Protocol>
net::awaitable<std::optional<core::Secret>> Session<Protocol>::read_small_body(http::request_parser<http::buffer_body>& req_p,
                                                                         std::size_t limit) {
  std::string body;
  body.reserve(limit);
  auto& req = req_p.get();
  while (!req_p.is_done()) {
    const std::size_t room = limit - body.size();
    if (room == 0) break;
    body.resize(limit);
    req.body().data = body.data() + (limit - room);
    req.body().size = room;
    client_.expires_after(w_.shared.cfg.timeouts.body_inactivity);
    auto [ec, n] = co_await http::async_read_some(client_, cbuf_, req_p, as_tuple(use_awaitable));
    body.resize(limit - req.body().size);
    if (ec && ec != http::error::need_buffer) {
      core::wipe(body);
      co_return std::nullopt;
    }
  }
  req.body().data = nullptr;
  req.body().size = 0;
  if (!req_p.is_done()) {
    core::wipe(body);
    co_return std::nullopt;
  }
  co_return core::Secret(std::move(body));
}

template <class Protocol>
net::awaitable<Outcome> Session<Protocol>::answer_auth_call(http::request_parser<http::buffer_body>& req_p,
                                                            core::AuthCall call, AccessRecord& rec) {
  auto& auth = *w_.shared.auto_auth;
  auto& counters = w_.shared.counters;
  const unsigned version = req_p.get().version();
  const bool keep_alive = req_p.get().keep_alive();
  auto body = co_await read_small_body(req_p, auth_body_limit);
  if (!body) {
    co_return co_await respond_error(
        core::ErrorCode::bad_request,
        fmt::format("vault-proxy refused the auth call: its body is broken or over {} bytes", auth_body_limit), version,
        false, rec);
  }
  core::LocalAnswer answer;
  if (call == core::AuthCall::login) {
    auto identity = auth.identity.current();
    static const core::Secret none;
    answer = core::answer_login(body->reveal(), identity ? identity->client_id : none,
                                identity ? identity->client_secret : none, auth.local_token);
  } else if (auto a = core::answer_token_call(call, body->reveal(), auth.local_token)) {
    answer = std::move(*a);
  } else {
    answer = {401, refusal_body("vault-proxy runs auto-auth: it renews and revokes only the local token it gave "
                                "out; the real token never leaves the proxy")};
  }
  counters.local_auth_answers.fetch_add(1, std::memory_order_relaxed);
  if (answer.status != 200) {
    counters.local_logins_refused.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("auto-auth: refused a {} call with credentials that are not the proxy's; nothing was sent upstream",
                 call == core::AuthCall::login ? "login" : "token");
  }
  http::response<http::string_body> res{static_cast<http::status>(answer.status), version == 10 ? 10u : 11u};
  res.set(http::field::content_type, "application/json; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Vault-Proxy-Local", "auto-auth");
  res.body() = std::move(answer.body);
  rec.diagnosis = answer.status == 200 ? "auto_auth_local" : "auto_auth_refused";
  auto out = co_await respond(res, keep_alive, rec);
  core::wipe(res.body());
  co_return out;
}

template net::awaitable<Outcome> Session<tcp>::answer_auth_call(http::request_parser<http::buffer_body>&,
                                                               core::AuthCall, AccessRecord&);
template net::awaitable<Outcome> Session<net::local::stream_protocol>::answer_auth_call(
    http::request_parser<http::buffer_body>&, core::AuthCall, AccessRecord&);

}  // namespace vp::proxy::detail
