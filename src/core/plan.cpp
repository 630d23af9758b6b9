#include "core/plan.hpp"

#include "core/framing.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <fmt/format.h>

#include <charconv>
#include <iterator>

namespace vp::core {
namespace {

// message::content_length(n), except that a message already holding exactly one Content-Length
// that reads n, and no Transfer-Encoding (content_length() would take "chunked" out of it), is
// left as it is: set() allocates a new field on every call, one of a small response's heap
// allocations (issue 17). The field then stays where the sender put it.
template <class Message>
void set_content_length(Message& m, std::uint64_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  auto [first, last] = m.equal_range(http::field::content_length);
  const bool same = first != last && std::next(first) == last && first->value() == std::string_view(digits, end);
  if (!same || m.count(http::field::transfer_encoding) > 0) m.content_length(n);
}

}  // namespace

Admission admit(const http::request_header<>& req, bool capability_ok, const CheckPolicy& policy,
                AdmitLimits limits) {
  auto refuse = [](ErrorCode code, std::string message, bool close) {
    return Admission{Admission::Kind::refuse, Refusal{code, std::move(message)}, close};
  };
  // Framing first: a request whose length is ambiguous cannot be answered on a kept connection.
  if (auto bad = check_framing_fields(req))
    return refuse(ErrorCode::bad_request, fmt::format("vault-proxy refused a malformed request: {}", *bad), true);
  if (!capability_ok)
    return refuse(ErrorCode::not_found,
                  "this vault-proxy requires its capability path prefix; use the URL from the capability "
                  "file (see docs/security.md)",
                  false);
  if (req.target().size() > limits.target) return refuse(ErrorCode::uri_too_long, {}, true);
  if (static_cast<std::size_t>(std::distance(req.begin(), req.end())) > limits.fields)
    return refuse(ErrorCode::header_too_large,
                  fmt::format("vault-proxy refused the request: more than {} header fields", limits.fields),
                  true);
  auto check = check_request(req, policy);
  if (check.refusal) return Admission{Admission::Kind::refuse, std::move(*check.refusal), false};
  return Admission{check.route == Route::local ? Admission::Kind::local : Admission::Kind::forward};
}

template <class Body>
RewriteResult plan_request(http::request<Body>& req, RequestFraming framing, const Injection& inj,
                           InjectInto into) {
  req.erase(http::field::expect);
  auto rw = into == InjectInto::wire ? strip_request(req, inj) : rewrite_request(req, inj);
  req.version(11);
  if (framing.chunked)
    req.chunked(true);
  else if (framing.content_length)
    set_content_length(req, *framing.content_length);
  return rw;
}

template RewriteResult plan_request(http::request<http::buffer_body>&, RequestFraming, const Injection&,
                                    InjectInto);
template RewriteResult plan_request(http::request<http::empty_body>&, RequestFraming, const Injection&,
                                    InjectInto);

template <class Body>
ResponsePlan plan_response(http::response<Body>& res, ResponseFraming framing, unsigned client_version,
                           bool keep_alive, std::string_view diagnosis) {
  ResponsePlan plan;
  plan.rewrite = rewrite_response(res);
  if (!diagnosis.empty()) res.set("X-Vault-Proxy-Diagnosis", diagnosis);
  res.version(client_version == 10 ? 10 : 11);
  if (!framing.no_body) {
    if (framing.content_length && !framing.chunked) {
      set_content_length(res, *framing.content_length);
    } else if (client_version >= 11) {
      res.chunked(true);
    } else {
      keep_alive = false;  // an HTTP/1.0 client learns the end of the body from the close
    }
  }
  res.keep_alive(keep_alive);
  plan.keep_alive = keep_alive;
  plan.chunked = !framing.no_body && res.chunked();
  return plan;
}

template ResponsePlan plan_response(http::response<http::buffer_body>&, ResponseFraming, unsigned, bool,
                                    std::string_view);
template ResponsePlan plan_response(http::response<http::empty_body>&, ResponseFraming, unsigned, bool,
                                    std::string_view);

bool is_idempotent(http::verb v) noexcept {
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

IoFault io_fault(const beast::error_code& ec) noexcept {
  namespace asio = boost::asio;
  // http::error::partial_message: Beast's name for an end of stream inside a message.
  if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated ||
      ec == http::error::partial_message)
    return IoFault::disconnect;
  if (ec == beast::error::timeout) return IoFault::timeout;
  if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) return IoFault::cancelled;
  return IoFault::other;
}

bool is_disconnect(const beast::error_code& ec) noexcept { return io_fault(ec) == IoFault::disconnect; }

bool client_gone(const beast::error_code& ec) noexcept { return io_fault(ec) != IoFault::other; }

ErrorCode upstream_read_error(const beast::error_code& ec) noexcept {
  switch (io_fault(ec)) {
    case IoFault::timeout:
      return ErrorCode::upstream_timeout;
    case IoFault::disconnect:
      return ErrorCode::upstream_closed;
    default:
      return ErrorCode::upstream_protocol;
  }
}

ErrorCode upstream_write_error(const beast::error_code& ec) noexcept {
  return is_disconnect(ec) ? ErrorCode::upstream_closed : ErrorCode::upstream_connect;
}

bool retry_decision(AttemptFailure failure, const Attempt& a) noexcept {
  if (!a.reused || !a.first) return false;  // a fresh connection's failure is the upstream's answer
  switch (failure) {
    case AttemptFailure::header_write:
      return true;  // nothing of this request reached a live upstream
    case AttemptFailure::closed_early:
      return a.idempotent && !a.has_body && a.response_bytes == 0;
  }
  return false;
}

bool should_read_error_body(unsigned status, bool no_body, std::optional<std::uint64_t> content_length) noexcept {
  return status >= 300 && status != 304 && !no_body && (!content_length || *content_length <= peek_limit);
}

}  // namespace vp::core
