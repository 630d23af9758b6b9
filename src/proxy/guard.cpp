// The guardrails' step of a request (docs/guardrails.md): the request's facts (core/api_op), and
// the listener's local policy (core/policy) decided on them before anything goes upstream. A
// write whose rules turn on its body (environment, secret path) has the body read whole first, and
// then forwarded from the relay buffer.

#include "proxy/session.hpp"

#include "core/error.hpp"

#include <spdlog/spdlog.h>

namespace vp::proxy::detail {
namespace {

using net::as_tuple;
using net::use_awaitable;

bool expects_continue(const http::request_header<>& req) {
  if (req.version() < 11) return false;
  for (auto [it, end] = req.equal_range(http::field::expect); it != end; ++it)
    if (beast::iequals(it->value(), "100-continue")) return true;
  return false;
}

}  // namespace

// Reads the whole body into the relay buffer: true when it fits and arrived; false when it does not
// fit (the part read is dropped: the connection cannot be reused). Throws nothing; a broken body is
// reported through `ec`.
template <class Protocol>
net::awaitable<bool> Session<Protocol>::hold_body(http::request_parser<http::buffer_body>& req_p,
                                                  error_code& ec) {
  auto& req = req_p.get();
  // The client waits for our 100 before it sends the body (RFC 9110 §10.1.1).
  if (expects_continue(req)) {
    static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
    client_.expires_after(w_.shared.cfg.timeouts.body_inactivity);
    auto [wec, wn] = co_await net::async_write(client_, net::buffer(cont), as_tuple(use_awaitable));
    if (wec) {
      ec = wec;
      co_return false;
    }
  }
  if (cbuf_.capacity() < relay_buffer_size) cbuf_.reserve(relay_buffer_size);
  char* const base = relay_.data();
  const std::size_t room = relay_.size();
  std::size_t filled = 0;
  while (!req_p.is_done()) {
    if (filled == room) co_return false;
    req.body().data = base + filled;
    req.body().size = room - filled;
    client_.expires_after(w_.shared.cfg.timeouts.body_inactivity);
    auto [rec, n] = co_await http::async_read_some(client_, cbuf_, req_p, as_tuple(use_awaitable));
    filled = room - req.body().size;
    if (rec && rec != http::error::need_buffer) {
      ec = rec;
      co_return false;
    }
  }
  req.body().data = filled > 0 ? base : nullptr;
  req.body().size = filled;
  req.body().more = false;
  co_return true;
}

// Decides the request under the listener's policy. Returns the outcome when the request was
// answered here (refused), nothing when it goes on.
template <class Protocol>
net::awaitable<std::optional<Outcome>> Session<Protocol>::apply_policy(http::request_parser<http::buffer_body>& req_p,
                                                                       Guard& g, AccessRecord& rec) {
  auto& req = req_p.get();
  auto& counters = w_.shared.counters;
  g.call = core::classify_api(req.method(), req.target());
  if (!g.policy) co_return std::nullopt;
  const auto method = req.method_string();
  g.decision = core::decide(method, g.call, *g.policy);
  if (g.decision.verdict == core::Verdict::need_body) {
    bool too_large = false;
    if (!req_p.is_done()) {
      error_code ec;
      g.body_held = co_await hold_body(req_p, ec);
      if (auto fault = ec ? core::body_fault(ec) : std::nullopt)
        co_return co_await refuse_body(*fault, ec, req.version(), rec);
      if (ec) co_return Outcome::abort;  // the client went away
      too_large = !g.body_held;
    }
    std::string_view body;
    if (g.body_held && req.body().size > 0) body = {static_cast<const char*>(req.body().data), req.body().size};
    core::add_body_facts(g.call, body);
    g.decision = core::decide(method, g.call, *g.policy);
    if (too_large)
      g.decision.message += fmt::format(" (its body is over {} KiB, too large to read for the policy)",
                                        relay_.size() / 1024);
  }
  if (g.decision.verdict == core::Verdict::allow) {
    counters.policy_allowed.fetch_add(1, std::memory_order_relaxed);
    co_return std::nullopt;
  }
  counters.policy_refused.fetch_add(1, std::memory_order_relaxed);
  counters.refused.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("{}", g.decision.message);
  const bool keep_alive = req.keep_alive() && (req_p.is_done() || g.body_held);
  co_return co_await respond_error(core::ErrorCode::local_policy, g.decision.message, req.version(), keep_alive, rec);
}

template net::awaitable<std::optional<Outcome>> Session<tcp>::apply_policy(http::request_parser<http::buffer_body>&,
                                                                         Guard&, AccessRecord&);
template net::awaitable<std::optional<Outcome>> Session<net::local::stream_protocol>::apply_policy(
    http::request_parser<http::buffer_body>&, Guard&, AccessRecord&);

}  // namespace vp::proxy::detail
