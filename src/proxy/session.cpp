// The per-connection session: read a request header, check it, rewrite it, relay it to a pooled
// upstream connection, relay the response back, log it. Bodies are streamed through one fixed
// buffer per session, never held whole.

#include "core/diagnosis.hpp"
#include "core/error.hpp"
#include "core/headers.hpp"
#include "core/request_check.hpp"
#include "proxy/access_log.hpp"
#include "proxy/local.hpp"
#include "proxy/read_header.hpp"
#include "core/framing.hpp"
#include "core/wire.hpp"
#include "proxy/worker.hpp"
#include "net/deadline.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <array>

namespace vp::proxy {
namespace {

using net::as_tuple;
using net::use_awaitable;
using clock = std::chrono::steady_clock;

constexpr core::HeaderLimits header_limits{};  // 64 KiB block, 8 KiB start line
constexpr std::size_t header_limit = header_limits.header;
constexpr std::size_t request_line_limit = header_limits.line;
constexpr std::size_t max_fields = 256;
constexpr std::size_t relay_buffer_size = BlockPool::small_size;  // a client body read at a time
constexpr std::size_t record_buffer_size = 17 * 1024;  // a TLS record's payload and overhead
constexpr std::size_t peek_limit = 64 * 1024;  // error bodies read whole for classification

bool is_idempotent(http::verb v) {
  switch (v) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::trace:
    case http::verb::put:
    case http::verb::delete_:
      return true;
    default:
      return false;
  }
}

// Errors that mean "the peer went away", as opposed to a protocol violation.
bool is_disconnect(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::ssl::error::stream_truncated || ec == http::error::partial_message;
}

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

// How a request ended, for the caller's keep-alive decision.
enum class Outcome { keep_alive, close, abort };

template <class Protocol>
class Session {
 public:
  using socket_type = typename Protocol::socket;

  Session(Worker& w, socket_type socket) : w_(w), client_(std::move(socket)) {
    handle_.close_idle = [this] {
      error_code ignored;
      client_.socket().shutdown(socket_type::shutdown_both, ignored);
      client_.cancel();
    };
    w_.sessions.insert(&handle_);
  }
  ~Session() { w_.sessions.erase(&handle_); }

  net::awaitable<void> run();

 private:
  net::awaitable<Outcome> serve_one(http::request_parser<http::buffer_body>& req_p);
  net::awaitable<Outcome> forward(http::request_parser<http::buffer_body>& req_p,
                                  AccessRecord& rec);
  net::awaitable<Outcome> respond_error(ErrorCode code, std::string_view message, unsigned version,
                                        bool keep_alive, AccessRecord& rec);
  net::awaitable<Outcome> respond(http::response<http::string_body>& res, bool keep_alive,
                                  AccessRecord& rec);
  net::awaitable<Outcome> refuse_body(core::BodyFault fault, const error_code& ec, unsigned version,
                                      AccessRecord& rec);
  void log(const AccessRecord& rec, clock::time_point start);
  void note_upstream_error(ErrorCode code, const std::string& detail, AccessRecord& rec);
  void abort_client();

  // Appends a body piece to `out` framed for its receiver: as it is for a Content-Length (or
  // close-delimited) body; for a chunked one as a chunk, with the last chunk after the final piece.
  template <std::size_t N>
  std::size_t frame_piece(std::array<net::const_buffer, N>& out, std::size_t n, const char* data,
                          std::size_t size, bool more, bool chunked);

  Worker& w_;
  net_util::DeadlineStream<Protocol> client_;
  beast::flat_buffer cbuf_{core::read_buffer_limit};  // bounds a chunk-size line and the trailers too
  SessionHandle handle_;
  RelayBuffer relay_{w_.blocks};  // body buffer, held only while a body moves
  std::string hdr_;         // the header being sent, serialised flat (core/wire.hpp)
  std::string chunk_line_;  // the chunk-size line of the piece being sent
};

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

template <class Protocol>
void Session<Protocol>::abort_client() {
  // An RST, so that a client never mistakes a cut-off body for a complete one.
  error_code ignored;
  client_.socket().set_option(net::socket_base::linger(true, 0), ignored);  // no-op on Unix sockets
  client_.socket().close(ignored);
}

// Counts, logs and records an upstream fault (the ready probe shows the last one).
template <class Protocol>
void Session<Protocol>::note_upstream_error(ErrorCode code, const std::string& detail, AccessRecord& rec) {
  w_.shared.counters.upstream_errors.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("upstream error {}: {}", code_name(code), detail);
  w_.shared.note_error(code_name(code), detail);
  rec.error = code_name(code);
}

template <class Protocol>
void Session<Protocol>::log(const AccessRecord& rec, clock::time_point start) {
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
      if (hr.result == HeaderRead::Result::io_error &&
          (is_disconnect(ec) || ec == beast::error::timeout || ec == net::error::operation_aborted ||
           ec == net::error::bad_descriptor))
        break;
      AccessRecord rec{.method = "-", .target = "-"};
      auto start = clock::now();
      w_.shared.counters.refused.fetch_add(1, std::memory_order_relaxed);
      // The message is built before the co_await: GCC 12 destroys temporaries of a conditional
      // expression in a co_await operand twice.
      ErrorCode code = ErrorCode::bad_request;
      std::string message;
      if (hr.result == HeaderRead::Result::line_too_long) {
        code = ErrorCode::uri_too_long;
      } else if (hr.result == HeaderRead::Result::header_too_large) {
        code = ErrorCode::header_too_large;
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

  Outcome out;
  std::size_t fields = std::distance(req.begin(), req.end());
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
  if (auto bad = core::check_framing_fields(req)) {
    counters.refused.fetch_add(1, std::memory_order_relaxed);
    out = co_await respond_error(ErrorCode::bad_request,
                                 fmt::format("vault-proxy refused a malformed request: {}", *bad),
                                 req.version(), false, rec);
  } else if (!capability_ok) {
    counters.refused.fetch_add(1, std::memory_order_relaxed);
    out = co_await respond_error(ErrorCode::not_found,
                                 "this vault-proxy requires its capability path prefix; use the URL "
                                 "from the capability file (see docs/security.md)",
                                 req.version(), keep_alive, rec);
  } else if (req.target().size() > request_line_limit) {
    counters.refused.fetch_add(1, std::memory_order_relaxed);
    out = co_await respond_error(ErrorCode::uri_too_long, {}, req.version(), false, rec);
  } else if (fields > max_fields) {
    counters.refused.fetch_add(1, std::memory_order_relaxed);
    out = co_await respond_error(ErrorCode::header_too_large,
                                 fmt::format("vault-proxy refused the request: more than {} header fields", max_fields),
                                 req.version(), false, rec);
  } else if (auto check = core::check_request(req, w_.shared.policy); check.refusal) {
    counters.refused.fetch_add(1, std::memory_order_relaxed);
    out = co_await respond_error(check.refusal->code, check.refusal->message, req.version(),
                                 keep_alive, rec);
  } else if (check.route == core::Route::local) {
    counters.local.fetch_add(1, std::memory_order_relaxed);
    auto res = co_await handle_local(w_, req);
    out = co_await respond(res, keep_alive, rec);
  } else {
    counters.proxied.fetch_add(1, std::memory_order_relaxed);
    out = co_await forward(req_p, rec);
  }
  log(rec, start);
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
net::awaitable<Outcome> Session<Protocol>::respond_error(ErrorCode code, std::string_view message,
                                               unsigned version, bool keep_alive,
                                               AccessRecord& rec) {
  http::response<http::string_body> res{static_cast<http::status>(status_for(code)),
                                        version == 10 ? 10u : 11u};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Vault-Proxy-Error", code_name(code));
  if (code == ErrorCode::method_not_allowed) res.set(http::field::allow, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
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
        ErrorCode::header_too_large,
        fmt::format("vault-proxy refused the request body: a chunk-size line or the trailer section "
                    "is over {} bytes",
                    core::read_buffer_limit),
        version, false, rec);
  }
  co_return co_await respond_error(
      ErrorCode::bad_request, fmt::format("vault-proxy refused a malformed request body: {}", ec.message()), version,
      false, rec);
}

template <class Protocol>
net::awaitable<Outcome> Session<Protocol>::forward(http::request_parser<http::buffer_body>& req_p,
                                         AccessRecord& rec) {
  auto& shared = w_.shared;
  const auto& t = shared.cfg.timeouts;
  auto& req = req_p.get();
  const unsigned client_version = req.version();
  const bool client_keep_alive = req.keep_alive();
  const bool has_body = !req_p.is_done();
  const bool chunked_body = req_p.chunked();
  const auto content_length = req_p.content_length();
  const bool is_head = req.method() == http::verb::head;
  bool expect_continue = false;
  for (auto [it, end] = req.equal_range(http::field::expect); it != end; ++it)
    expect_continue = expect_continue || beast::iequals(it->value(), "100-continue");

  auto token = shared.creds.current();
  if (!token) {
    // Nothing goes upstream without credentials; the unread body makes the connection unusable.
    co_return co_await respond_error(ErrorCode::credentials_missing, {}, client_version,
                                     client_keep_alive && !has_body, rec);
  }

  // rewrite_request: Expect is answered here, so the upstream never waits for a 100 we would drop.
  req.erase(http::field::expect);
  auto rw = core::rewrite_request(req, {shared.host_header, shared.cfg.user_agent, token.get()});
  shared.counters.credentials_injected.fetch_add(rw.injected ? 1 : 0, std::memory_order_relaxed);
  shared.counters.client_credentials_removed.fetch_add(rw.client_credentials_removed,
                                                       std::memory_order_relaxed);
  if (rw.underscore_fields_removed > 0) {
    shared.counters.underscore_fields_removed.fetch_add(rw.underscore_fields_removed, std::memory_order_relaxed);
    rec.underscore_fields_removed = static_cast<std::uint32_t>(rw.underscore_fields_removed);
  }
  req.version(11);
  if (chunked_body)
    req.chunked(true);
  else if (content_length)
    req.content_length(*content_length);

  auto fail = [&](ErrorCode code, const std::string& detail) -> net::awaitable<Outcome> {
    note_upstream_error(code, detail, rec);
    co_return co_await respond_error(code, {}, client_version, client_keep_alive && !has_body, rec);
  };

  // Reads the next piece of the client's body into relay_ and points the request body at it.
  // Beast's chunked serializer writes any non-null buffer as a chunk, even an empty one, and a
  // zero-size chunk is the last-chunk marker: an empty piece gets no buffer.
  auto read_piece = [&]() -> net::awaitable<error_code> {
    req.body().data = relay_.data();
    req.body().size = relay_.size();
    client_.expires_after(t.body_inactivity);
    auto [ec, n] = co_await http::async_read_some(client_, cbuf_, req_p, as_tuple(use_awaitable));
    if (ec == http::error::need_buffer) ec = {};
    req.body().size = relay_.size() - req.body().size;
    req.body().data = req.body().size > 0 ? relay_.data() : nullptr;
    req.body().more = !req_p.is_done();
    co_return ec;
  };

  // The body's first piece is read before anything goes upstream, so that a body broken from its
  // first bytes (a bad chunk size) is refused with 400 and never reaches the upstream. Not with
  // Expect: 100-continue, where the client waits for our 100 before sending the body.
  bool holding = false;  // relay_ holds a piece not yet sent upstream
  if (has_body && !(expect_continue && client_version >= 11)) {
    if (cbuf_.capacity() < relay_buffer_size) cbuf_.reserve(relay_buffer_size);
    do {
      if (auto ec = co_await read_piece()) {
        auto fault = core::body_fault(ec);
        if (!fault) co_return Outcome::abort;
        co_return co_await refuse_body(*fault, ec, client_version, rec);
      }
    } while (req.body().size == 0 && req.body().more);
    holding = true;
  }

  // A bodiless idempotent request can be replayed on a fresh connection if a pooled one turns
  // out closed before any response byte (docs/architecture.md, retries).
  const bool replayable = !has_body && is_idempotent(req.method());

  // Acquire a connection and send the header. A pooled connection the upstream closed in the
  // meantime is replaced, but only while replaying is safe (see docs/architecture.md, retries).
  std::unique_ptr<upstream::Connection> conn;
  std::optional<http::response_parser<http::buffer_body>> res_holder;
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    conn = attempt == 0 ? w_.pool.take_idle() : nullptr;
    if (conn) {
      reused = true;
    } else {
      auto cr = co_await w_.pool.connect();
      if (cr.error) co_return co_await fail(*cr.error, cr.detail);
      conn = std::move(cr.connection);
    }

    // The header goes out with the body's first piece when that is already here.
    std::array<net::const_buffer, 5> out{};
    std::size_t nout = 0;
    hdr_.clear();
    core::append_request_header(hdr_, req);
    out[nout++] = net::buffer(hdr_);
    if (holding) nout = frame_piece(out, nout, relay_.data(), req.body().size, req.body().more, chunked_body);
    conn->stream.expires_after(t.body_inactivity);
    if (auto wec = co_await net_tls::write_all(conn->stream, std::span(out.data(), nout))) {
      if (reused && attempt == 0) continue;  // nothing of this request reached a live upstream
      co_return co_await fail(is_disconnect(wec) ? ErrorCode::upstream_closed : ErrorCode::upstream_connect,
                              "writing request header: " + wec.message());
    }

    if (has_body) {
      bool more = holding ? req.body().more : true;
      holding = false;
      if (expect_continue && client_version >= 11) {
        static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
        client_.expires_after(t.body_inactivity);
        auto [cec, cn] = co_await net::async_write(client_, net::buffer(cont), as_tuple(use_awaitable));
        if (cec) co_return Outcome::abort;
      }
      // Client body → upstream, one buffer at a time.
      if (cbuf_.capacity() < relay_buffer_size) cbuf_.reserve(relay_buffer_size);
      while (more) {
        // The client vanished or sent a broken body: the upstream saw a partial request, so
        // its connection is discarded, and the client gets nothing more.
        if (auto rec_ec = co_await read_piece()) {
          if (auto fault = core::body_fault(rec_ec))
            rec.error = code_name(*fault == core::BodyFault::too_large ? ErrorCode::header_too_large
                                                                       : ErrorCode::bad_request);
          co_return Outcome::abort;
        }
        more = req.body().more;
        if (req.body().size == 0 && more) continue;  // the read parsed framing only
        nout = frame_piece(out, 0, relay_.data(), req.body().size, more, chunked_body);
        conn->stream.expires_after(t.body_inactivity);
        if (auto uec = co_await net_tls::write_all(conn->stream, std::span(out.data(), nout)))
          co_return co_await fail(ErrorCode::upstream_closed, "sending request body: " + uec.message());
      }
    }

    // Response header; informational 1xx responses (other than 101) are consumed here.
    bool retry = false;
    for (;;) {
      res_holder.emplace();
      auto& rp = *res_holder;
      rp.header_limit(header_limit);
      rp.body_limit(boost::none);
      if (is_head) rp.skip(true);
      conn->stream.expires_after(t.upstream_header);
      auto hr = co_await read_header(conn->stream, conn->buffer, rp, header_limits);
      const auto& hec = hr.ec;
      const auto hn = hr.bytes_read;
      if (hr.result == HeaderRead::Result::ok) {
        if (auto bad = core::check_framing_fields(rp.get()))
          co_return co_await fail(ErrorCode::upstream_protocol, fmt::format("response header: {}", *bad));
      } else if (hr.result != HeaderRead::Result::io_error) {
        // Built before the co_await: GCC 12 destroys temporaries of a conditional expression in a
        // co_await operand twice.
        std::string why = "reading response header: ";
        if (hr.result != HeaderRead::Result::malformed)
          why += "over the size limit";
        else
          why += hr.reason.empty() ? hec.message() : std::string(hr.reason);
        co_return co_await fail(ErrorCode::upstream_protocol, why);
      } else {
        if (hec == beast::error::timeout)
          co_return co_await fail(ErrorCode::upstream_timeout,
                                  fmt::format("no response header within {} ms", t.upstream_header.count()));
        if (is_disconnect(hec)) {
          // A reused connection closed before any response byte: replay only requests that are
          // safe to repeat and whose body (none) we still hold.
          if (reused && attempt == 0 && replayable && hn == 0) {
            retry = true;
            break;
          }
          co_return co_await fail(ErrorCode::upstream_closed, "reading response header: " + hec.message());
        }
        co_return co_await fail(ErrorCode::upstream_protocol, "reading response header: " + hec.message());
      }
      auto status = rp.get().result_int();
      if (status >= 100 && status < 200) {
        if (status == 101)
          co_return co_await fail(ErrorCode::upstream_protocol, "unexpected 101 Switching Protocols");
        continue;
      }
      break;
    }
    if (retry) continue;
    break;
  }

  auto& rp = *res_holder;
  auto& res = rp.get();
  rec.upstream_status = res.result_int();
  const bool upstream_keep_alive = rp.keep_alive();
  const auto res_length = rp.content_length();
  const bool no_body = rp.is_done();  // HEAD, 204, 304, or Content-Length: 0
  const bool res_chunked = rp.chunked();

  // Error answers are small: read up to peek_limit of the body so the classifier can tell a
  // Cloudflare page from Infisical's JSON before anything is sent to the client.
  const unsigned status = res.result_int();
  std::string peek;
  if (status >= 300 && status != 304 && !no_body && (!res_length || *res_length <= peek_limit)) {
    while (!rp.is_done() && peek.size() < peek_limit) {
      res.body().data = relay_.data();
      res.body().size = relay_.size();
      conn->stream.expires_after(t.body_inactivity);
      auto [pec, pn] = co_await http::async_read_some(conn->stream, conn->buffer, rp, as_tuple(use_awaitable));
      if (pec && pec != http::error::need_buffer)
        co_return co_await fail(is_disconnect(pec) ? ErrorCode::upstream_closed : ErrorCode::upstream_protocol,
                                "reading error response body: " + pec.message());
      peek.append(relay_.data(), relay_.size() - res.body().size);
    }
  }
  core::ResponseFacts facts{.status = status,
                            .location = res[http::field::location],
                            .content_type = res[http::field::content_type],
                            .cf_mitigated = res["cf-mitigated"],
                            .server = res[http::field::server],
                            .has_cf_ray = res.count("cf-ray") > 0,
                            .body = peek};
  const auto diagnosis = core::classify(facts);
  if (diagnosis != core::Diagnosis::none) {
    shared.counters.diagnoses[static_cast<std::size_t>(diagnosis)].fetch_add(1, std::memory_order_relaxed);
    rec.diagnosis = core::diagnosis_name(diagnosis);
  }
  if (core::replaced_by_proxy(diagnosis)) {
    // Cloudflare's pages and login redirects are replaced: the real client shows only a JSON
    // `message`, and follows redirects into a login page it then reports as success.
    shared.note_error(core::diagnosis_name(diagnosis), fmt::format("upstream answered {}", status));
    nlohmann::json body{{"message", core::diagnosis_message(diagnosis)},
                        {"error", core::diagnosis_name(diagnosis)},
                        {"upstream_status", status}};
    if (auto ray = res["cf-ray"]; !ray.empty()) body["cf_ray"] = std::string(ray);
    http::response<http::string_body> out{static_cast<http::status>(core::replaced_status(diagnosis, status)),
                                          client_version == 10 ? 10u : 11u};
    out.set(http::field::content_type, "application/json");
    out.set(http::field::cache_control, "no-store");
    out.set("X-Vault-Proxy-Diagnosis", core::diagnosis_name(diagnosis));
    out.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (rp.is_done() && upstream_keep_alive) {
      ++conn->requests;
      w_.pool.give_back(std::move(conn));
    }
    co_return co_await respond(out, client_keep_alive, rec);
  }

  if (auto rr = core::rewrite_response(res); rr.access_cookies_removed > 0) {
    shared.counters.access_cookies_removed.fetch_add(rr.access_cookies_removed, std::memory_order_relaxed);
    rec.access_cookies_removed = static_cast<std::uint32_t>(rr.access_cookies_removed);
  }
  if (diagnosis != core::Diagnosis::none) res.set("X-Vault-Proxy-Diagnosis", core::diagnosis_name(diagnosis));
  res.version(client_version == 10 ? 10 : 11);
  bool keep_alive = client_keep_alive && !shared.draining.load(std::memory_order_relaxed);
  if (!no_body) {
    if (res_length && !res_chunked) {
      res.content_length(*res_length);
    } else if (client_version >= 11) {
      res.chunked(true);
    } else {
      keep_alive = false;  // an HTTP/1.0 client learns the end of the body from the close
    }
  }
  res.keep_alive(keep_alive);
  rec.status = res.result_int();

  // Sends one piece of the body (the header with the first), framed for the client.
  const bool chunk_out = !no_body && res.chunked();
  bool header_sent = false;
  hdr_.clear();
  core::append_response_header(hdr_, res);
  auto send = [&](const char* data, std::size_t size, bool more) -> net::awaitable<bool> {
    std::array<net::const_buffer, 5> out{};
    std::size_t n = 0;
    if (!header_sent) out[n++] = net::buffer(hdr_);
    header_sent = true;
    n = frame_piece(out, n, data, size, more, chunk_out);
    rec.bytes += size;
    client_.expires_after(t.body_inactivity);
    auto [ec, k] = co_await net::async_write(client_, std::span(out.data(), n), as_tuple(use_awaitable));
    co_return !ec;
  };
  if (no_body) {
    if (!co_await send(nullptr, 0, false)) co_return Outcome::abort;
  } else {
    if (!peek.empty() || rp.is_done()) {
      if (!co_await send(peek.data(), peek.size(), !rp.is_done())) co_return Outcome::abort;
    }
    // The upstream broke the body (died, stalled, or sent a chunk-size line or trailers that do not
    // fit the read buffer). Before the header went out the client gets a 502 like any upstream
    // fault; after it, a reset: the client must not see a message that looks complete.
    auto cut_short = [&](const error_code& ec) -> net::awaitable<Outcome> {
      const ErrorCode code = core::body_fault(ec) ? ErrorCode::upstream_protocol : ErrorCode::upstream_closed;
      const std::string detail = "response body cut short: " + ec.message();
      if (!header_sent) co_return co_await fail(code, detail);
      note_upstream_error(code, detail, rec);
      rec.status = 0;
      co_return Outcome::abort;
    };
    if (peek.empty() && !rp.is_done() && res_length && !res_chunked) {
      // A Content-Length body is opaque bytes of a known length: it goes from the TLS stream
      // straight into relay_ and on to the client, without the parser's copy of every byte.
      std::uint64_t left = *res_length;
      while (left > 0) {
        if (conn->buffer.size() > 0) {
          // Body bytes that arrived with the header (a small response, all of it) go out from
          // where they are: no copy, and no relay block taken.
          const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, conn->buffer.size()));
          left -= n;
          if (!co_await send(static_cast<const char*>(conn->buffer.data().data()), n, left > 0))
            co_return Outcome::abort;  // client gone
          conn->buffer.consume(n);
          continue;
        }
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, relay_.size()));
        conn->stream.expires_after(t.body_inactivity);
        auto [rec_ec, n] = co_await net_tls::read_some(conn->stream, net::buffer(relay_.data(), want));
        if (rec_ec) co_return co_await cut_short(rec_ec);
        left -= n;
        if (!co_await send(relay_.data(), n, left > 0)) co_return Outcome::abort;  // client gone
      }
    } else {
      // Beast sizes each read by the buffer's spare capacity (at least 512 bytes): without room for
      // a whole TLS record a chunked body arrives in many small reads. The room is given back
      // after the body, so that an idle pooled connection does not hold it.
      if (conn->buffer.capacity() < record_buffer_size) conn->buffer.reserve(record_buffer_size);
      while (!rp.is_done()) {
        res.body().data = relay_.data();
        res.body().size = relay_.size();
        conn->stream.expires_after(t.body_inactivity);
        auto [rec_ec, rn] = co_await http::async_read_some(conn->stream, conn->buffer, rp, as_tuple(use_awaitable));
        if (rec_ec && rec_ec != http::error::need_buffer) co_return co_await cut_short(rec_ec);
        const std::size_t size = relay_.size() - res.body().size;
        const bool more = !rp.is_done();
        if (size == 0 && more) continue;
        if (!co_await send(relay_.data(), size, more)) co_return Outcome::abort;  // client gone
      }
    }
  }

  ++conn->requests;
  // Only the room a chunked body reserved is given back; read_header's 4 KiB stays.
  if (conn->buffer.size() == 0 && conn->buffer.capacity() > 8 * 1024) conn->buffer.shrink_to_fit();
  if (upstream_keep_alive) w_.pool.give_back(std::move(conn));
  co_return keep_alive ? Outcome::keep_alive : Outcome::close;
}

}  // namespace

void Worker::drain() {
  for (auto* h : sessions) {
    if (h->idle) h->close_idle();
  }
  pool.clear();
}

net::awaitable<void> run_session(Worker& w, tcp::socket socket) {
  Session<tcp> s(w, std::move(socket));
  co_await s.run();
}

net::awaitable<void> run_session(Worker& w, net::local::stream_protocol::socket socket) {
  Session<net::local::stream_protocol> s(w, std::move(socket));
  co_await s.run();
}

}  // namespace vp::proxy
