// The guardrails' step of a request (docs/guardrails.md): the request's facts (core/api_op), and
// the listener's local policy (core/policy) decided on them before anything goes upstream. A
// write whose rules turn on its body (environment, secret path) has the body read whole first, and
// then forwarded from the relay buffer.

#include "proxy/session.hpp"

#include "core/error.hpp"
#include "sys/peer.hpp"

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

// Without a policy, a write's facts (environment, path) are in its body: a body that fits the relay
// buffer and announces its length is read whole for the audit line, then forwarded from there.
template <class Protocol>
net::awaitable<std::optional<Outcome>> Session<Protocol>::hold_for_audit(http::request_parser<http::buffer_body>& req_p,
                                                                         Guard& g, AccessRecord& rec) {
  auto& req = req_p.get();
  const auto length = req_p.content_length();
  if (req_p.is_done() || !length || *length > relay_.size()) co_return std::nullopt;
  error_code ec;
  g.body_held = co_await hold_body(req_p, ec);
  if (auto fault = ec ? core::body_fault(ec) : std::nullopt) co_return co_await refuse_body(*fault, ec, req.version(), rec);
  if (ec || !g.body_held) co_return Outcome::abort;  // the client went away (or sent more than it announced)
  if (req.body().size > 0) core::add_body_facts(g.call, {static_cast<const char*>(req.body().data), req.body().size});
  co_return std::nullopt;
}

// The client's process, once per connection: SO_PEERCRED on the Unix socket; on TCP a /proc scan
// (sys/peer.hpp), run on the lookup thread so that the worker goes on serving meanwhile.
template <class Protocol>
net::awaitable<void> Session<Protocol>::find_peer() {
  if (peer_) co_return;
  const auto started = clock::now();
  const int fd = client_.socket().native_handle();
  sys::Peer p;
  if constexpr (std::is_same_v<Protocol, tcp>) {
    std::call_once(w_.shared.lookups_once, [&] { w_.shared.lookups = std::make_unique<net::thread_pool>(1); });
    p = co_await net::co_spawn(
        *w_.shared.lookups, [fd]() -> net::awaitable<sys::Peer> { co_return sys::tcp_peer(fd); }, use_awaitable);
  } else {
    p = sys::unix_peer(fd);
  }
  auto& c = w_.shared.counters;
  c.peer_lookups.fetch_add(1, std::memory_order_relaxed);
  c.peer_lookup_us.fetch_add(
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - started).count()),
      std::memory_order_relaxed);
  core::AuditClient client;
  if (p.pid) client.pid = *p.pid;
  if (p.uid) client.uid = *p.uid;
  client.command = std::move(p.command);
  client.ancestors.assign(p.ancestors.begin(), p.ancestors.end());
  client.problem = std::move(p.problem);
  peer_ = std::move(client);
}

// One line of the audit trail: what the request did, to what, for which process, and how it ended.
template <class Protocol>
void Session<Protocol>::write_audit(const Guard& g, const AccessRecord& rec) {
  core::AuditRecord r;
  r.time = std::chrono::system_clock::now();
  r.proxy_pid = w_.shared.pid;
  r.listener = listener_index == Shared::tcp_listener ? "tcp" : "unix";
  if (peer_) r.client = *peer_;
  r.method = rec.method;
  r.operation = g.call.problem.empty() ? std::string(core::op_name(g.call.op)) : "ambiguous-target";
  r.project = g.call.project;
  r.environment = g.call.environment;
  r.secret_path = g.call.secret_path;
  r.keys = g.call.keys;
  r.status = rec.status;
  r.diagnosis = rec.diagnosis;
  if (g.policy) {
    r.decision = g.decision.verdict == core::Verdict::allow ? "allow" : "refuse";
    r.rule = g.decision.rule;
  }
  w_.shared.counters.audit_records.fetch_add(1, std::memory_order_relaxed);
  w_.shared.audit->submit(core::format_audit_line(r));
}

template net::awaitable<std::optional<Outcome>> Session<tcp>::apply_policy(http::request_parser<http::buffer_body>&,
                                                                         Guard&, AccessRecord&);
template net::awaitable<std::optional<Outcome>> Session<net::local::stream_protocol>::apply_policy(
    http::request_parser<http::buffer_body>&, Guard&, AccessRecord&);

template net::awaitable<std::optional<Outcome>> Session<tcp>::hold_for_audit(http::request_parser<http::buffer_body>&,
                                                                           Guard&, AccessRecord&);
template net::awaitable<std::optional<Outcome>> Session<net::local::stream_protocol>::hold_for_audit(
    http::request_parser<http::buffer_body>&, Guard&, AccessRecord&);
template net::awaitable<void> Session<tcp>::find_peer();
template net::awaitable<void> Session<net::local::stream_protocol>::find_peer();
template void Session<tcp>::write_audit(const Guard&, const AccessRecord&);
template void Session<net::local::stream_protocol>::write_audit(const Guard&, const AccessRecord&);

}  // namespace vp::proxy::detail
