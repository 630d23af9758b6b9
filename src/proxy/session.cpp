// The per-connection session: read a request header, admit it (core::admit), answer it locally or
// forward it (exchange.cpp), log it. Bodies are streamed through one fixed buffer per session,
// never held whole.

#include "proxy/session.hpp"

#include "core/error.hpp"
#include "core/request_check.hpp"
#include "proxy/local.hpp"
#include "proxy/read_header.hpp"

#include <spdlog/spdlog.h>

namespace vp::proxy {
namespace detail {
namespace {

using net::as_tuple;
using net::use_awaitable;

constexpr std::size_t header_limit = header_limits.header;
constexpr core::AdmitLimits admit_limits{.target = header_limits.line, .fields = 256};

bool strip_capability(http::request_header<>& req, std::string_view token) {
  auto stripped = core::strip_capability(req.target(), token);
  if (!stripped) return false;
  if (*stripped != req.target()) req.target(*stripped);
  return true;
}

// "/<first segment>/rest?query" → "/<redacted>/rest?query", for targets refused for a missing or
// wrong capability prefix.
std::string redact_first_segment(std::string_view target) {
  if (target.empty() || target.front() != '/') return "<redacted>";
  auto end = target.find_first_of("/?", 1);
  return "/<redacted>" + std::string(end == std::string_view::npos ? std::string_view() : target.substr(end));
}

}  // namespace

template <class Protocol>
Session<Protocol>::Session(Worker& w, socket_type socket) : w_(w), client_(std::move(socket)) {
  handle_.close_idle = [this] {
    error_code ignored;
    client_.socket().shutdown(socket_type::shutdown_both, ignored);
    client_.cancel();
  };
  w_.sessions.insert(&handle_);
}

template <class Protocol>
Session<Protocol>::~Session() {
  w_.sessions.erase(&handle_);
}

template <class Protocol>
void Session<Protocol>::abort_client() {
  // An RST, so that a client never mistakes a cut-off body for a complete one.
  error_code ignored;
  client_.socket().set_option(net::socket_base::linger(true, 0), ignored);  // no-op on Unix sockets
  client_.socket().close(ignored);
}

template <class Protocol>
void Session<Protocol>::log(const AccessRecord& rec, clock::time_point start) {
  if (rec.status >= 100 && rec.status < 600)
    w_.shared.counters.responses_by_class[rec.status / 100 - 1].fetch_add(1, std::memory_order_relaxed);
  if (!w_.shared.cfg.access_log) return;
  AccessRecord r = rec;
  r.duration = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start);
  log_access(r);
}

template <class Protocol>
net::awaitable<void> Session<Protocol>::run() {
  if constexpr (std::is_same_v<Protocol, tcp>) client_.socket().set_option(tcp::no_delay(true));
  const auto& t = w_.shared.cfg.timeouts;
  bool first = true;
  for (;;) {
    http::request_parser<http::buffer_body> req_p;
    req_p.header_limit(header_limit);
    req_p.body_limit(boost::none);  // bodies are streamed; limits apply to headers only
    handle_.idle = true;
    if (w_.shared.draining.load(std::memory_order_relaxed)) break;
    client_.expires_after(first ? t.request_header : t.idle_keepalive);
    auto hr = co_await read_header(client_, cbuf_, req_p, header_limits,
                                   [&, keep_alive_wait = !first] {
                                     // A request has begun: the header timer replaces the idle one.
                                     if (keep_alive_wait) client_.expires_after(t.request_header);
                                   });
    handle_.idle = false;
    first = false;
    if (hr.result != HeaderRead::Result::ok) {
      const auto& ec = hr.ec;
      if (hr.result == HeaderRead::Result::io_error && core::client_gone(ec)) break;
      AccessRecord rec{.method = "-", .target = "-"};
      auto start = clock::now();
      w_.shared.counters.refused.fetch_add(1, std::memory_order_relaxed);
      // The message is built before the co_await: GCC 12 destroys temporaries of a conditional
      // expression in a co_await operand twice.
      core::ErrorCode code = core::ErrorCode::bad_request;
      std::string message;
      if (hr.result == HeaderRead::Result::line_too_long) {
        code = core::ErrorCode::uri_too_long;
      } else if (hr.result == HeaderRead::Result::header_too_large) {
        code = core::ErrorCode::header_too_large;
      } else {
        message = fmt::format("vault-proxy refused a malformed request: {}",
                              hr.reason.empty() ? ec.message() : std::string(hr.reason));
      }
      co_await respond_error(code, message, 11, false, rec);
      log(rec, start);
      break;
    }
    auto outcome = co_await serve_one(req_p);
    relay_.release();
    if (outcome == Outcome::abort) {
      abort_client();
      co_return;
    }
    if (outcome == Outcome::close) break;
  }
  error_code ignored;
  client_.socket().shutdown(socket_type::shutdown_send, ignored);
  client_.socket().close(ignored);
}

template <class Protocol>
net::awaitable<Outcome> Session<Protocol>::serve_one(http::request_parser<http::buffer_body>& req_p) {
  auto start = clock::now();
  auto& req = req_p.get();
  auto& counters = w_.shared.counters;
  counters.requests.fetch_add(1, std::memory_order_relaxed);
  AccessRecord rec{.method = req.method_string(), .target = req.target()};
  // A request whose body we are not going to read leaves the connection unusable.
  bool body_pending = !req_p.is_done();
  bool keep_alive = req.keep_alive() && !body_pending;

  // RFC 9112 §3.2.2: absolute-form naming this proxy is served as origin-form, and its authority
  // replaces Host. Any other absolute-form stays refused by check_request.
  if (auto own = core::own_absolute_form(req.target(), w_.shared.policy)) {
    req.set(http::field::host, own->authority);
    req.target(own->origin_form);
  }
  bool capability_ok = strip_capability(req, w_.shared.capability);
  // A target refused for its prefix may hold a near-miss of the token (one byte off), which must
  // not land in the log: its first segment is logged as "<redacted>".
  std::string redacted_target;
  if (!capability_ok) redacted_target = redact_first_segment(req.target());
  rec.target = capability_ok ? std::string_view(req.target()) : std::string_view(redacted_target);
  Outcome out;
  auto admission = core::admit(req, capability_ok, w_.shared.policy, admit_limits);
  if (admission.kind == core::Admission::Kind::refuse) {
    counters.refused.fetch_add(1, std::memory_order_relaxed);
    out = co_await respond_error(admission.refusal.code, admission.refusal.message, req.version(),
                                 keep_alive && !admission.close, rec);
  } else if (admission.kind == core::Admission::Kind::local) {
    counters.local.fetch_add(1, std::memory_order_relaxed);
    auto res = co_await handle_local(w_, req);
    out = co_await respond(res, keep_alive, rec);
  } else {
    out = co_await serve_api(req_p, rec);
  }
  log(rec, start);
  co_return out;
}

// A request admitted for the upstream: the guardrails first (the policy, the facts the audit trail
// records), then auto-auth's local answers or the exchange with the upstream.
template <class Protocol>
net::awaitable<Outcome> Session<Protocol>::serve_api(http::request_parser<http::buffer_body>& req_p, AccessRecord& rec) {
  auto& req = req_p.get();
  auto& shared = w_.shared;
  Guard g;
  g.policy = shared.policies[listener_index].load(std::memory_order_acquire);
  // Only API paths are audited: other requests pay for the facts only under a policy.
  const auto target = req.target();
  if (g.policy || (shared.audit && core::may_be_audited(target)))
    g.call = core::classify_api(req.method(), target);
  // A target that could be read two ways is recorded too: the vault (or Cloudflare's URL
  // normalisation) may read it as a secret's path.
  const bool audited = shared.audit && (core::op_audited(g.call.op) || !g.call.problem.empty());
  if (audited) co_await find_peer();
  std::optional<Outcome> early;
  if (g.policy)
    early = co_await apply_policy(req_p, g, rec);
  else if (audited && core::op_has_body_facts(g.call.op))
    early = co_await hold_for_audit(req_p, g, rec);
  Outcome out;
  if (early) {
    out = *early;
  } else if (auto call = shared.auto_auth ? core::auth_call(req.method(), req.target()) : core::AuthCall::none;
             call != core::AuthCall::none) {
    shared.counters.local.fetch_add(1, std::memory_order_relaxed);
    out = co_await answer_auth_call(req_p, call, rec);
  } else {
    shared.counters.proxied.fetch_add(1, std::memory_order_relaxed);
    out = co_await forward(req_p, rec, g.body_held);
  }
  if (audited) write_audit(g, rec);
  co_return out;
}

template <class Protocol>
net::awaitable<Outcome> Session<Protocol>::respond(http::response<http::string_body>& res, bool keep_alive,
                                         AccessRecord& rec) {
  keep_alive = keep_alive && !w_.shared.draining.load(std::memory_order_relaxed);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  rec.status = res.result_int();
  rec.bytes = res.body().size();
  client_.expires_after(w_.shared.cfg.timeouts.body_inactivity);
  auto [ec, n] = co_await http::async_write(client_, res, as_tuple(use_awaitable));
  if (ec) co_return Outcome::abort;
  co_return keep_alive ? Outcome::keep_alive : Outcome::close;
}

template <class Protocol>
net::awaitable<Outcome> Session<Protocol>::respond_error(core::ErrorCode code, std::string_view message,
                                               unsigned version, bool keep_alive,
                                               AccessRecord& rec) {
  http::response<http::string_body> res{static_cast<http::status>(status_for(code)),
                                        version == 10 ? 10u : 11u};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Vault-Proxy-Error", code_name(code));
  if (code == core::ErrorCode::method_not_allowed)
    res.set(http::field::allow, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
  res.set("X-Vault-Proxy-Diagnosis", code_name(code));
  res.body() = error_body(code, message.empty() ? default_message(code) : message);
  rec.error = code_name(code);
  rec.diagnosis = code_name(code);
  w_.shared.counters.errors[static_cast<std::size_t>(code)].fetch_add(1, std::memory_order_relaxed);
  co_return co_await respond(res, keep_alive, rec);
}

// A request body refused before any of it went upstream.
template <class Protocol>
net::awaitable<Outcome> Session<Protocol>::refuse_body(core::BodyFault fault, const error_code& ec,
                                                       unsigned version, AccessRecord& rec) {
  w_.shared.counters.refused.fetch_add(1, std::memory_order_relaxed);
  if (fault == core::BodyFault::too_large) {
    co_return co_await respond_error(
        core::ErrorCode::header_too_large,
        fmt::format("vault-proxy refused the request body: a chunk-size line or the trailer section "
                    "is over {} bytes",
                    core::read_buffer_limit),
        version, false, rec);
  }
  co_return co_await respond_error(
      core::ErrorCode::bad_request,
      fmt::format("vault-proxy refused a malformed request body: {}", ec.message()), version, false, rec);
}

template class Session<tcp>;
template class Session<net::local::stream_protocol>;

}  // namespace detail

net::awaitable<void> run_session(Worker& w, tcp::socket socket) {
  detail::Session<tcp> s(w, std::move(socket));
  co_await s.run();
}

net::awaitable<void> run_session(Worker& w, net::local::stream_protocol::socket socket) {
  detail::Session<net::local::stream_protocol> s(w, std::move(socket));
  co_await s.run();
}

}  // namespace vp::proxy
