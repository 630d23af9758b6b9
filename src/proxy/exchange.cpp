// forward(): one request's exchange with the upstream, as a sequence of steps. The decisions (what
// is rewritten, how a response is framed, when to retry, what an error means) are core/plan's; the
// steps here only move bytes and apply them. The shape is Beast's relay: read header → transform
// header → write header → loop body pieces through one fixed buffer.

#include "proxy/session.hpp"

#include "core/error.hpp"
#include "core/wire.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace vp::proxy::detail {
namespace {

using net::as_tuple;
using net::use_awaitable;

constexpr std::size_t header_limit = header_limits.header;
// How long a request holding the placeholder waits for the keeper's login or renew.
constexpr std::chrono::seconds token_wait{15};

}  // namespace

template <class Protocol>
net::awaitable<Outcome> Session<Protocol>::forward(http::request_parser<http::buffer_body>& req_p,
                                                   AccessRecord& rec, bool body_held) {
  // Steps that have nothing to do for a request (no body, a 2xx answer) are not entered: each
  // entered step costs a coroutine frame, and a small request is a few tens of thousands of
  // instructions in all (docs/BENCHMARKS.md, callgrind).
  Exchange x(req_p, rec, body_held);
  x.holding = body_held;
  if (w_.shared.auto_auth != nullptr) {
    if (co_await take_access_token(x) == Next::done) co_return x.outcome;
  }
  if (!prepare_request(x)) {
    // Nothing goes upstream without credentials; the unread body makes the connection unusable.
    co_return co_await respond_error(core::ErrorCode::credentials_missing, {}, x.client_version,
                                     x.client_keep_alive && !x.has_body, rec);
  }
  if (x.has_body && !x.waits_for_continue && !x.holding) {
    if (co_await read_first_piece(x) == Next::done) co_return x.outcome;
  }
  // A pooled connection the upstream closed in the meantime is replaced, but only while replaying
  // is safe (core::retry_decision, docs/architecture.md "Retries").
  clock::time_point sent_at;
  for (int attempt = 0;; ++attempt) {
    sent_at = clock::now();
    auto next = co_await send_request_header(x, attempt);
    if (next == Next::retry) continue;
    if (next == Next::done) co_return x.outcome;
    if (x.has_body) {
      if (co_await relay_request_body(x) == Next::done) co_return x.outcome;
    }
    next = co_await read_response_header(x, attempt);
    if (next == Next::retry) continue;
    if (next == Next::done) co_return x.outcome;
    break;
  }
  w_.shared.counters.observe_upstream_latency(
      std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - sent_at));
  auto& res = x.res_p->get();
  if (core::should_read_error_body(res.result_int(), x.framing.no_body, x.framing.content_length)) {
    if (co_await read_error_body(x) == Next::done) co_return x.outcome;
  }
  const auto diagnosis = core::classify(core::response_facts(res.result_int(), res, x.peek));
  if (diagnosis != core::Diagnosis::none) {
    w_.shared.counters.diagnoses[static_cast<std::size_t>(diagnosis)].fetch_add(1, std::memory_order_relaxed);
    rec.diagnosis = core::diagnosis_name(diagnosis);
  }
  // The vault refused the real token itself (expired early, revoked): the keeper logs in again.
  if (x.access && core::token_refused(res.result_int(), x.peek)) w_.shared.auto_auth->token.need(x.access->version);
  if (core::replaced_by_proxy(diagnosis)) co_return co_await answer_replacement(x, diagnosis);
  co_return co_await relay_response(x, diagnosis);
}

// Counts, logs and records an upstream fault (the ready probe shows the last one).
template <class Protocol>
void Session<Protocol>::note_upstream_error(core::ErrorCode code, const std::string& detail, AccessRecord& rec) {
  w_.shared.counters.upstream_errors.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("upstream error {}: {}", code_name(code), detail);
  w_.shared.note_error(code_name(code), detail);
  rec.error = code_name(code);
}

// An upstream fault before the client saw anything of the response: the client gets the error.
template <class Protocol>
net::awaitable<Next> Session<Protocol>::fail(Exchange& x, core::ErrorCode code, const std::string& detail) {
  note_upstream_error(code, detail, x.rec);
  co_return x.finish(co_await respond_error(code, {}, x.client_version, x.client_keep_alive && !x.has_body, x.rec));
}

// Auto-auth: a request that holds the placeholder gets the real token, waiting for the keeper's
// login or renew when there is no usable one; 503 token_unavailable when none comes in time.
template <class Protocol>
net::awaitable<Next> Session<Protocol>::take_access_token(Exchange& x) {
  auto& auth = *w_.shared.auto_auth;
  if (core::bearer_use(x.req_p.get(), auth.local_token) != core::BearerUse::placeholder) co_return Next::proceed;
  x.access = auth.token.usable();
  if (!x.access) x.access = co_await auth.token.wait_usable(clock::now() + token_wait);
  if (x.access) co_return Next::proceed;
  auto status = auth.token.status();
  auto message = fmt::format("vault-proxy has no valid access token for the machine identity (auto-auth is {}{}{})",
                             status.state, status.reason.empty() ? "" : ": ", status.reason);
  co_return x.finish(co_await respond_error(core::ErrorCode::token_unavailable, message, x.client_version,
                                            x.client_keep_alive && !x.has_body, x.rec));
}

// Credentials and the rewrite. False when there are no credentials: nothing is sent upstream.
template <class Protocol>
bool Session<Protocol>::prepare_request(Exchange& x) {
  auto& shared = w_.shared;
  auto& req = x.req_p.get();
  for (auto [it, end] = req.equal_range(http::field::expect); it != end; ++it)
    x.waits_for_continue = x.waits_for_continue || beast::iequals(it->value(), "100-continue");
  // A held body was read after our own 100 Continue (guard.cpp).
  x.waits_for_continue = x.waits_for_continue && x.client_version >= 11 && !x.body_held;
  x.token = shared.creds.current();
  if (!x.token) return false;
  x.injection = {shared.host_header, shared.cfg.user_agent, x.token.get(), x.access ? &x.access->value : nullptr};
  auto rw = core::plan_request(req, core::request_framing(x.req_p), x.injection, core::InjectInto::wire);
  if (rw.bearer_replaced) shared.counters.placeholders_replaced.fetch_add(1, std::memory_order_relaxed);
  shared.counters.credentials_injected.fetch_add(rw.injected ? 1 : 0, std::memory_order_relaxed);
  shared.counters.client_credentials_removed.fetch_add(rw.client_credentials_removed, std::memory_order_relaxed);
  if (rw.underscore_fields_removed > 0) {
    shared.counters.underscore_fields_removed.fetch_add(rw.underscore_fields_removed, std::memory_order_relaxed);
    x.rec.underscore_fields_removed = static_cast<std::uint32_t>(rw.underscore_fields_removed);
  }
  return true;
}

// The body's first piece is read before anything goes upstream, so that a body broken from its
// first bytes (a bad chunk size) is refused with 400 and never reaches the upstream. Not with
// Expect: 100-continue, where the client waits for our 100 before sending the body.
template <class Protocol>
net::awaitable<Next> Session<Protocol>::read_first_piece(Exchange& x) {
  auto& req = x.req_p.get();
  if (cbuf_.capacity() < relay_buffer_size) cbuf_.reserve(relay_buffer_size);
  do {
    if (auto ec = co_await read_piece(x)) {
      auto fault = core::body_fault(ec);
      if (!fault) co_return x.finish(Outcome::abort);
      co_return x.finish(co_await refuse_body(*fault, ec, x.client_version, x.rec));
    }
  } while (req.body().size == 0 && req.body().more);
  x.holding = true;
  co_return Next::proceed;
}

// Reads the next piece of the client's body into relay_ and points the request body at it.
// Beast's chunked serializer writes any non-null buffer as a chunk, even an empty one, and a
// zero-size chunk is the last-chunk marker: an empty piece gets no buffer.
template <class Protocol>
net::awaitable<error_code> Session<Protocol>::read_piece(Exchange& x) {
  auto& req = x.req_p.get();
  req.body().data = relay_.data();
  req.body().size = relay_.size();
  client_.expires_after(w_.shared.cfg.timeouts.body_inactivity);
  auto [ec, n] = co_await http::async_read_some(client_, cbuf_, x.req_p, as_tuple(use_awaitable));
  if (ec == http::error::need_buffer) ec = {};
  req.body().size = relay_.size() - req.body().size;
  req.body().data = req.body().size > 0 ? relay_.data() : nullptr;
  req.body().more = !x.req_p.is_done();
  co_return ec;
}

// Takes a connection (pooled on the first attempt) and sends the header, with the body's first
// piece when that is already here.
template <class Protocol>
net::awaitable<Next> Session<Protocol>::send_request_header(Exchange& x, int attempt) {
  auto& req = x.req_p.get();
  x.conn = attempt == 0 ? w_.pool.take_idle() : nullptr;
  if (!x.conn && attempt == 0 && w_.pool.spare_pending()) {
    // Just after start: the worker's spare is on its way, and the wait is shorter than a handshake
    // of our own (a spare that fails leaves the pool empty, and the request connects itself).
    co_await w_.pool.spare_settled();
    x.conn = w_.pool.take_idle();
  }
  x.reused = x.conn != nullptr;
  if (!x.conn) {
    auto cr = co_await w_.pool.connect();
    if (cr.error) co_return co_await fail(x, *cr.error, cr.detail);
    x.conn = std::move(cr.connection);
  }
  std::array<net::const_buffer, 5> out{};
  std::size_t nout = 0;
  hdr_.clear();
  core::append_request_header(hdr_, req, &x.injection);
  out[nout++] = net::buffer(hdr_);
  if (x.holding) nout = frame_piece(out, nout, relay_.data(), req.body().size, req.body().more, x.chunked_body);
  x.conn->stream.expires_after(w_.shared.cfg.timeouts.body_inactivity);
  if (auto wec = co_await net_tls::write_all(x.conn->stream, std::span(out.data(), nout))) {
    const core::Attempt a{.reused = x.reused, .first = attempt == 0, .idempotent = x.idempotent, .has_body = x.has_body};
    if (core::retry_decision(core::AttemptFailure::header_write, a)) co_return Next::retry;
    co_return co_await fail(x, core::upstream_write_error(wec), "writing request header: " + wec.message());
  }
  co_return Next::proceed;
}

// Client body → upstream, one buffer at a time, after the 100 Continue the client waits for.
template <class Protocol>
net::awaitable<Next> Session<Protocol>::relay_request_body(Exchange& x) {
  const auto& t = w_.shared.cfg.timeouts;
  auto& req = x.req_p.get();
  bool more = x.holding ? req.body().more : true;
  x.holding = false;
  if (x.waits_for_continue) {
    static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
    client_.expires_after(t.body_inactivity);
    auto [cec, cn] = co_await net::async_write(client_, net::buffer(cont), as_tuple(use_awaitable));
    if (cec) co_return x.finish(Outcome::abort);
  }
  if (cbuf_.capacity() < relay_buffer_size) cbuf_.reserve(relay_buffer_size);
  std::array<net::const_buffer, 5> out{};
  while (more) {
    // The client vanished or sent a broken body: the upstream saw a partial request, so its
    // connection is discarded, and the client gets nothing more.
    if (auto ec = co_await read_piece(x)) {
      if (auto fault = core::body_fault(ec))
        x.rec.error = code_name(*fault == core::BodyFault::too_large ? core::ErrorCode::header_too_large
                                                                     : core::ErrorCode::bad_request);
      co_return x.finish(Outcome::abort);
    }
    more = req.body().more;
    if (req.body().size == 0 && more) continue;  // the read parsed framing only
    const std::size_t nout = frame_piece(out, 0, relay_.data(), req.body().size, more, x.chunked_body);
    x.conn->stream.expires_after(t.body_inactivity);
    if (auto uec = co_await net_tls::write_all(x.conn->stream, std::span(out.data(), nout)))
      co_return co_await fail(x, core::ErrorCode::upstream_closed, "sending request body: " + uec.message());
  }
  co_return Next::proceed;
}

// The response header; informational 1xx responses (other than 101) are consumed here.
template <class Protocol>
net::awaitable<Next> Session<Protocol>::read_response_header(Exchange& x, int attempt) {
  for (;;) {
    auto& rp = x.res_p.emplace();
    rp.header_limit(header_limit);
    rp.body_limit(boost::none);
    if (x.is_head) rp.skip(true);
    x.conn->stream.expires_after(w_.shared.cfg.timeouts.upstream_header);
    auto hr = co_await read_header(x.conn->stream, x.conn->buffer, rp, header_limits);
    if (hr.result != HeaderRead::Result::ok) co_return co_await response_header_failed(x, hr, attempt);
    if (auto bad = core::check_framing_fields(rp.get()))
      co_return co_await fail(x, core::ErrorCode::upstream_protocol, fmt::format("response header: {}", *bad));
    const auto status = rp.get().result_int();
    if (status == 101)
      co_return co_await fail(x, core::ErrorCode::upstream_protocol, "unexpected 101 Switching Protocols");
    if (status >= 100 && status < 200) continue;
    x.rec.upstream_status = status;
    x.upstream_keep_alive = rp.keep_alive();
    x.framing = core::response_framing(rp);
    co_return Next::proceed;
  }
}

template <class Protocol>
net::awaitable<Next> Session<Protocol>::response_header_failed(Exchange& x, const HeaderRead& hr, int attempt) {
  // Messages are built before the co_await: GCC 12 destroys temporaries of a conditional
  // expression in a co_await operand twice.
  std::string why = "reading response header: ";
  if (hr.result != HeaderRead::Result::io_error) {
    if (hr.result != HeaderRead::Result::malformed)
      why += "over the size limit";
    else
      why += hr.reason.empty() ? hr.ec.message() : std::string(hr.reason);
    co_return co_await fail(x, core::ErrorCode::upstream_protocol, why);
  }
  const core::Attempt a{.reused = x.reused,
                        .first = attempt == 0,
                        .idempotent = x.idempotent,
                        .has_body = x.has_body,
                        .response_bytes = hr.bytes_read};
  if (core::is_disconnect(hr.ec) && core::retry_decision(core::AttemptFailure::closed_early, a))
    co_return Next::retry;
  const auto code = core::upstream_read_error(hr.ec);
  if (code == core::ErrorCode::upstream_timeout)
    why = fmt::format("no response header within {} ms", w_.shared.cfg.timeouts.upstream_header.count());
  else
    why += hr.ec.message();
  co_return co_await fail(x, code, why);
}

// Error answers are small: up to core::peek_limit of the body is read (core::should_read_error_body)
// so that the classifier can tell a Cloudflare page from Infisical's JSON before anything is sent.
template <class Protocol>
net::awaitable<Next> Session<Protocol>::read_error_body(Exchange& x) {
  auto& rp = *x.res_p;
  auto& res = rp.get();
  while (!rp.is_done() && x.peek.size() < core::peek_limit) {
    res.body().data = relay_.data();
    res.body().size = relay_.size();
    x.conn->stream.expires_after(w_.shared.cfg.timeouts.body_inactivity);
    auto [ec, n] = co_await http::async_read_some(x.conn->stream, x.conn->buffer, rp, as_tuple(use_awaitable));
    if (ec && ec != http::error::need_buffer) {
      const auto code =
          core::is_disconnect(ec) ? core::ErrorCode::upstream_closed : core::ErrorCode::upstream_protocol;
      co_return co_await fail(x, code, "reading error response body: " + ec.message());
    }
    x.peek.append(relay_.data(), relay_.size() - res.body().size);
  }
  co_return Next::proceed;
}

// Cloudflare's pages and login redirects are replaced: the real client shows only a JSON
// `message`, and follows redirects into a login page it then reports as success.
template <class Protocol>
net::awaitable<Outcome> Session<Protocol>::answer_replacement(Exchange& x, core::Diagnosis diagnosis) {
  auto& rp = *x.res_p;
  auto& res = rp.get();
  const unsigned status = res.result_int();
  w_.shared.note_error(core::diagnosis_name(diagnosis), fmt::format("upstream answered {}", status));
  nlohmann::json body{{"message", core::diagnosis_message(diagnosis)},
                      {"error", core::diagnosis_name(diagnosis)},
                      {"upstream_status", status}};
  if (auto ray = res["cf-ray"]; !ray.empty()) body["cf_ray"] = std::string(ray);
  http::response<http::string_body> out{static_cast<http::status>(core::replaced_status(diagnosis, status)),
                                        x.client_version == 10 ? 10u : 11u};
  out.set(http::field::content_type, "application/json");
  out.set(http::field::cache_control, "no-store");
  out.set("X-Vault-Proxy-Diagnosis", core::diagnosis_name(diagnosis));
  out.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (rp.is_done() && x.upstream_keep_alive) {
    ++x.conn->requests;
    w_.pool.give_back(std::move(x.conn));
  }
  co_return co_await respond(out, x.client_keep_alive, x.rec);
}

// The upstream's answer, rewritten and re-framed for the client (core::plan_response).
template <class Protocol>
net::awaitable<Outcome> Session<Protocol>::relay_response(Exchange& x, core::Diagnosis diagnosis) {
  auto& res = x.res_p->get();
  const bool keep_alive = x.client_keep_alive && !w_.shared.draining.load(std::memory_order_relaxed);
  const auto plan = core::plan_response(res, x.framing, x.client_version, keep_alive, core::diagnosis_name(diagnosis));
  if (plan.rewrite.access_cookies_removed > 0) {
    w_.shared.counters.access_cookies_removed.fetch_add(plan.rewrite.access_cookies_removed,
                                                        std::memory_order_relaxed);
    x.rec.access_cookies_removed = static_cast<std::uint32_t>(plan.rewrite.access_cookies_removed);
  }
  x.rec.status = res.result_int();
  x.chunk_out = plan.chunked;
  hdr_.clear();
  core::append_response_header(hdr_, res);
  auto& rp = *x.res_p;
  Next next = Next::proceed;
  if (x.framing.no_body) {
    if (!co_await send_piece(x, nullptr, 0, false)) co_return Outcome::abort;
  } else if (!x.peek.empty() || rp.is_done()) {
    if (!co_await send_piece(x, x.peek.data(), x.peek.size(), !rp.is_done())) co_return Outcome::abort;
    next = co_await relay_parsed_body(x);
  } else if (x.framing.content_length && !x.framing.chunked) {
    next = co_await relay_length_body(x);
  } else {
    next = co_await relay_parsed_body(x);
  }
  if (next == Next::done) co_return x.outcome;
  auto& conn = x.conn;
  ++conn->requests;
  // Only the room a chunked body reserved is given back; read_header's 4 KiB stays.
  if (conn->buffer.size() == 0 && conn->buffer.capacity() > 8 * 1024) conn->buffer.shrink_to_fit();
  if (x.upstream_keep_alive) w_.pool.give_back(std::move(conn));
  co_return plan.keep_alive ? Outcome::keep_alive : Outcome::close;
}

// A Content-Length body is opaque bytes of a known length: it goes from the TLS stream straight
// into relay_ and on to the client, without the parser's copy of every byte.
template <class Protocol>
net::awaitable<Next> Session<Protocol>::relay_length_body(Exchange& x) {
  auto& conn = *x.conn;
  std::uint64_t left = *x.framing.content_length;
  while (left > 0) {
    if (conn.buffer.size() > 0) {
      // Body bytes that arrived with the header (a small response, all of it) go out from where
      // they are: no copy, and no relay block taken.
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, conn.buffer.size()));
      left -= n;
      if (!co_await send_piece(x, static_cast<const char*>(conn.buffer.data().data()), n, left > 0))
        co_return x.finish(Outcome::abort);  // client gone
      conn.buffer.consume(n);
      continue;
    }
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, relay_.size()));
    conn.stream.expires_after(w_.shared.cfg.timeouts.body_inactivity);
    auto [ec, n] = co_await net_tls::read_some(conn.stream, net::buffer(relay_.data(), want));
    if (ec) co_return co_await cut_short(x, ec);
    left -= n;
    if (!co_await send_piece(x, relay_.data(), n, left > 0)) co_return x.finish(Outcome::abort);  // client gone
  }
  co_return Next::proceed;
}

// A chunked or close-delimited body, or what is left of one after the peek, through the parser.
template <class Protocol>
net::awaitable<Next> Session<Protocol>::relay_parsed_body(Exchange& x) {
  auto& rp = *x.res_p;
  auto& res = rp.get();
  auto& conn = *x.conn;
  // Beast sizes each read by the buffer's spare capacity (at least 512 bytes): without room for
  // a whole TLS record a chunked body arrives in many small reads. The room is given back after
  // the body, so that an idle pooled connection does not hold it.
  if (conn.buffer.capacity() < record_buffer_size) conn.buffer.reserve(record_buffer_size);
  while (!rp.is_done()) {
    res.body().data = relay_.data();
    res.body().size = relay_.size();
    conn.stream.expires_after(w_.shared.cfg.timeouts.body_inactivity);
    auto [ec, n] = co_await http::async_read_some(conn.stream, conn.buffer, rp, as_tuple(use_awaitable));
    if (ec && ec != http::error::need_buffer) co_return co_await cut_short(x, ec);
    const std::size_t size = relay_.size() - res.body().size;
    const bool more = !rp.is_done();
    if (size == 0 && more) continue;
    if (!co_await send_piece(x, relay_.data(), size, more)) co_return x.finish(Outcome::abort);  // client gone
  }
  co_return Next::proceed;
}

// Sends one piece of the body (the header with the first), framed for the client.
template <class Protocol>
net::awaitable<bool> Session<Protocol>::send_piece(Exchange& x, const char* data, std::size_t size, bool more) {
  std::array<net::const_buffer, 5> out{};
  std::size_t n = 0;
  if (!x.header_sent) out[n++] = net::buffer(hdr_);
  x.header_sent = true;
  n = frame_piece(out, n, data, size, more, x.chunk_out);
  x.rec.bytes += size;
  client_.expires_after(w_.shared.cfg.timeouts.body_inactivity);
  auto [ec, k] = co_await net::async_write(client_, std::span(out.data(), n), as_tuple(use_awaitable));
  co_return !ec;
}

// The upstream broke the body (died, stalled, or sent a chunk-size line or trailers that do not fit
// the read buffer). Before the header went out the client gets a 502 like any upstream fault;
// after it, a reset: the client must not see a message that looks complete.
template <class Protocol>
net::awaitable<Next> Session<Protocol>::cut_short(Exchange& x, const error_code& ec) {
  const core::ErrorCode code =
      core::body_fault(ec) ? core::ErrorCode::upstream_protocol : core::ErrorCode::upstream_closed;
  const std::string detail = "response body cut short: " + ec.message();
  if (!x.header_sent) co_return co_await fail(x, code, detail);
  note_upstream_error(code, detail, x.rec);
  x.rec.status = 0;
  co_return x.finish(Outcome::abort);
}

template <class Protocol>
template <std::size_t N>
std::size_t Session<Protocol>::frame_piece(std::array<net::const_buffer, N>& out, std::size_t n,
                                           const char* data, std::size_t size, bool more,
                                           bool chunked) {
  if (!chunked) {
    if (size > 0) out[n++] = net::buffer(data, size);
    return n;
  }
  if (size > 0) {
    chunk_line_.clear();
    core::append_chunk_size(chunk_line_, size);
    out[n++] = net::buffer(chunk_line_);
    out[n++] = net::buffer(data, size);
    out[n++] = net::buffer(core::chunk_end);
  }
  if (!more) out[n++] = net::buffer(core::last_chunk);
  return n;
}

template net::awaitable<Outcome> Session<tcp>::forward(http::request_parser<http::buffer_body>&, AccessRecord&,
                                                      bool);
template net::awaitable<Outcome> Session<net::local::stream_protocol>::forward(
    http::request_parser<http::buffer_body>&, AccessRecord&, bool);

}  // namespace vp::proxy::detail
