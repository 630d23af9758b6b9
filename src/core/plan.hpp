#pragma once
// The request path's decisions, apart from its I/O: which requests are admitted, what goes upstream,
// how a response is framed for the client, when a request is replayed, what a read error means, and
// when an error body is read for diagnosis. proxy/session.cpp and the fuzz targets call these same
// functions; each is table-tested in tests/unit/plan_test.cpp.

#include "core/error.hpp"
#include "core/headers.hpp"
#include "core/http.hpp"
#include "core/request_check.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace vp::core {

/// Limits on a request header that read_header does not apply itself.
struct AdmitLimits {
  std::size_t target = 8 * 1024;  ///< the request-target after normalisation (414 above)
  std::size_t fields = 256;       ///< header fields (431 above)
};

/// What admit() decided.
struct Admission {
  enum class Kind { refuse, local, forward };
  Kind kind = Kind::forward;
  Refusal refusal{ErrorCode::bad_request, {}};  ///< refuse: the error; an empty message means the default
  bool close = false;  ///< refuse: the client connection closes after the answer, whatever it asked
};

/// The admission order for a request header, first refusal wins: framing fields (400, close) →
/// capability prefix (404) → target length (414, close) → field count (431, close) →
/// check_request (its refusal) → local endpoint or forward. `capability_ok` is the outcome of
/// strip_capability on the target; the caller normalises an absolute-form naming this proxy
/// (own_absolute_form) and strips the capability before calling. A refusal that leaves the
/// connection readable (404, check_request's) keeps it alive when the request allows it.
Admission admit(const http::request_header<>& req, bool capability_ok, const CheckPolicy& policy,
                AdmitLimits limits = {});

/// The request's framing as the parser read it: what the upstream must be told again after the
/// rewrite stripped Transfer-Encoding.
struct RequestFraming {
  bool chunked = false;
  std::optional<std::uint64_t> content_length;
};

/// The framing of a request parser whose header is done.
template <class Parser>
RequestFraming request_framing(const Parser& p) {
  RequestFraming f{.chunked = p.chunked(), .content_length = {}};
  if (auto n = p.content_length()) f.content_length = *n;
  return f;
}

/// Turns the client's header into the one sent upstream: `Expect` dropped (the proxy answers
/// 100-continue itself, so the upstream never waits for a 100 that would be dropped), then
/// rewrite_request (strip, inject), version HTTP/1.1, and the framing re-established from
/// `framing`, never from the client's fields. Instantiated for buffer_body and empty_body.
template <class Body>
RewriteResult plan_request(http::request<Body>& req, RequestFraming framing, const Injection& inj);

/// The upstream response's framing as the parser read it.
struct ResponseFraming {
  bool no_body = false;  ///< HEAD, 204, 304, or Content-Length: 0 (the parser is done)
  bool chunked = false;
  std::optional<std::uint64_t> content_length;
};

/// The framing of a response parser whose header is done (and no body byte read yet).
template <class Parser>
ResponseFraming response_framing(const Parser& p) {
  ResponseFraming f{.no_body = p.is_done(), .chunked = p.chunked(), .content_length = {}};
  if (auto n = p.content_length()) f.content_length = *n;
  return f;
}

/// The framing sent to the client.
struct ResponsePlan {
  ResponseRewrite rewrite;
  bool keep_alive = false;  ///< the client connection stays open after this response
  bool chunked = false;     ///< the body goes out chunk-framed
};

/// Turns the upstream's header into the one sent to the client: rewrite_response, then
/// `diagnosis` (when not empty) as X-Vault-Proxy-Diagnosis, the client's version (1.0 or 1.1), and
/// the framing: a Content-Length kept, a chunked or close-delimited body chunked for an HTTP/1.1
/// client and close-delimited for an HTTP/1.0 one (which learns the end from the close, so
/// keep-alive is off). `keep_alive` is what the client asked for and the proxy allows (not
/// draining). Instantiated for buffer_body and empty_body.
template <class Body>
ResponsePlan plan_response(http::response<Body>& res, ResponseFraming framing, unsigned client_version,
                           bool keep_alive, std::string_view diagnosis = {});

/// RFC 9110 §9.2.2: a method whose repetition has the effect of one request.
bool is_idempotent(http::verb v) noexcept;

/// What a failed read or write means.
enum class IoFault {
  disconnect,  ///< the peer went away: end of stream, reset, broken pipe, TLS truncation
  timeout,     ///< the stream's own timer fired
  cancelled,   ///< the socket was closed or the operation aborted (drain)
  other,       ///< anything else: a protocol violation
};

/// Classifies a read or write error.
IoFault io_fault(const beast::error_code& ec) noexcept;

/// True when `ec` means the peer went away (IoFault::disconnect).
bool is_disconnect(const beast::error_code& ec) noexcept;

/// True when a failed client header read ends the connection without an answer: the client left,
/// stayed silent past its timer, or the proxy closed it. Other failures are answered 400.
bool client_gone(const beast::error_code& ec) noexcept;

/// The error for an upstream read that failed (response header or body before the client saw
/// anything): timeout → upstream_timeout, disconnect → upstream_closed, else upstream_protocol.
ErrorCode upstream_read_error(const beast::error_code& ec) noexcept;

/// The error for a failed write of the request header: the upstream closed (upstream_closed) or
/// the connection is unusable (upstream_connect).
ErrorCode upstream_write_error(const beast::error_code& ec) noexcept;

/// Where an attempt on an upstream connection failed.
enum class AttemptFailure {
  header_write,   ///< writing the request header
  closed_early,   ///< the connection closed while the response header was awaited
};

/// One attempt, for retry_decision.
struct Attempt {
  bool reused = false;               ///< the connection came from the pool
  bool first = true;                 ///< no earlier attempt for this request
  bool idempotent = false;           ///< is_idempotent(method)
  bool has_body = false;             ///< the request has a body
  std::size_t response_bytes = 0;    ///< response bytes received on this attempt
};

/// docs/architecture.md "Retries": a request is replayed on a new connection only when it cannot
/// have been processed twice, i.e. on the first attempt on a reused connection, when the header
/// write failed, or the connection closed before any response byte and the request is idempotent
/// and has no body (so the proxy still holds all of it).
bool retry_decision(AttemptFailure failure, const Attempt& attempt) noexcept;

/// The most of an error body read whole for classification.
inline constexpr std::size_t peek_limit = 64 * 1024;

/// True when the upstream's body is read (up to peek_limit) before anything is sent, so that the
/// classifier can tell a Cloudflare page from the origin's JSON: an error or redirect (≥ 300, not
/// 304) with a body, and a Content-Length, when there is one, within peek_limit.
bool should_read_error_body(unsigned status, bool no_body, std::optional<std::uint64_t> content_length) noexcept;

}  // namespace vp::core
