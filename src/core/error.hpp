#pragma once
// One error taxonomy for everything the proxy answers itself. Each code records where the fault came
// from and maps to exactly one HTTP status, in one place (status_for).

#include <string>
#include <string_view>

namespace vp::core {

/// Which side of the proxy a fault came from.
enum class ErrorSource { downstream, upstream, internal };

/// Errors the proxy reports as `X-Vault-Proxy-Error: <name>` and `{"error": "<name>"}`.
enum class ErrorCode {
  bad_request,          ///< malformed or refused client request
  header_too_large,     ///< request header block over the limit
  uri_too_long,         ///< request line over the limit
  misdirected_request,  ///< Host not on the allowlist
  forbidden_origin,     ///< browser request (Origin / Sec-Fetch-Site)
  method_not_allowed,   ///< CONNECT and other methods a reverse proxy must not serve
  not_found,            ///< unknown local endpoint or missing capability prefix
  overloaded,           ///< connection limit reached
  credentials_missing,  ///< no service token loaded; nothing was sent upstream
  token_unavailable,    ///< auto-auth: no usable access token in time; nothing was sent upstream
  local_policy,         ///< the local policy refused the request; nothing was sent upstream
  upstream_connect,     ///< resolve / TCP connect failed
  upstream_tls,         ///< TLS handshake or certificate verification failed
  upstream_timeout,     ///< no response header in time
  upstream_protocol,    ///< upstream sent something that is not valid HTTP/1.1
  upstream_closed,      ///< upstream closed or reset before a complete response header
  internal,             ///< a bug
};

/// Where the fault came from.
ErrorSource source_of(ErrorCode code) noexcept;
/// The HTTP status the proxy answers with.
unsigned status_for(ErrorCode code) noexcept;
/// The stable wire name, e.g. "upstream_connect".
std::string_view code_name(ErrorCode code) noexcept;
/// A sentence for the user: what happened and what to do next.
std::string_view default_message(ErrorCode code) noexcept;
/// `{"message": ..., "error": ...}` with `message` JSON-escaped.
std::string error_body(ErrorCode code, std::string_view message);

}  // namespace vp::core
