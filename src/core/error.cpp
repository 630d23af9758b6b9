#include "core/error.hpp"

#include <nlohmann/json.hpp>

namespace vp::core {

ErrorSource source_of(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::upstream_connect:
    case ErrorCode::upstream_tls:
    case ErrorCode::upstream_timeout:
    case ErrorCode::upstream_protocol:
    case ErrorCode::upstream_closed:
      return ErrorSource::upstream;
    case ErrorCode::internal:
    case ErrorCode::credentials_missing:
    case ErrorCode::token_unavailable:
    case ErrorCode::overloaded:
      return ErrorSource::internal;
    default:
      return ErrorSource::downstream;
  }
}

unsigned status_for(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::bad_request: return 400;
    case ErrorCode::header_too_large: return 431;
    case ErrorCode::uri_too_long: return 414;
    case ErrorCode::misdirected_request: return 421;
    case ErrorCode::forbidden_origin: return 403;
    case ErrorCode::method_not_allowed: return 405;
    case ErrorCode::not_found: return 404;
    case ErrorCode::overloaded: return 503;
    case ErrorCode::credentials_missing: return 503;
    case ErrorCode::token_unavailable: return 503;
    case ErrorCode::local_policy: return 403;
    case ErrorCode::upstream_connect: return 502;
    case ErrorCode::upstream_tls: return 502;
    case ErrorCode::upstream_timeout: return 504;
    case ErrorCode::upstream_protocol: return 502;
    case ErrorCode::upstream_closed: return 502;
    case ErrorCode::internal: return 500;
  }
  return 500;
}

std::string_view code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::bad_request: return "bad_request";
    case ErrorCode::header_too_large: return "header_too_large";
    case ErrorCode::uri_too_long: return "uri_too_long";
    case ErrorCode::misdirected_request: return "misdirected_request";
    case ErrorCode::forbidden_origin: return "forbidden_origin";
    case ErrorCode::method_not_allowed: return "method_not_allowed";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::overloaded: return "overloaded";
    case ErrorCode::credentials_missing: return "credentials_missing";
    case ErrorCode::token_unavailable: return "token_unavailable";
    case ErrorCode::local_policy: return "local_policy";
    case ErrorCode::upstream_connect: return "upstream_connect";
    case ErrorCode::upstream_tls: return "upstream_tls";
    case ErrorCode::upstream_timeout: return "upstream_timeout";
    case ErrorCode::upstream_protocol: return "upstream_protocol";
    case ErrorCode::upstream_closed: return "upstream_closed";
    case ErrorCode::internal: return "internal";
  }
  return "internal";
}

std::string_view default_message(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::bad_request:
      return "vault-proxy refused a malformed request";
    case ErrorCode::header_too_large:
      return "vault-proxy refused the request: its header block is too large";
    case ErrorCode::uri_too_long:
      return "vault-proxy refused the request: its request line is too long";
    case ErrorCode::misdirected_request:
      return "vault-proxy refused the request: its Host is not a loopback name of this proxy";
    case ErrorCode::forbidden_origin:
      return "vault-proxy refused a request from a browser page";
    case ErrorCode::method_not_allowed:
      return "vault-proxy is a reverse proxy for one upstream and does not serve this method";
    case ErrorCode::not_found:
      return "vault-proxy has no such local endpoint";
    case ErrorCode::overloaded:
      return "vault-proxy is at its connection limit; retry shortly";
    case ErrorCode::credentials_missing:
      return "vault-proxy has no Cloudflare Access service token: set CF_ACCESS_CLIENT_ID and "
             "CF_ACCESS_CLIENT_SECRET (or their _FILE variants) and restart the proxy";
    case ErrorCode::token_unavailable:
      return "vault-proxy has no valid access token for the machine identity yet (auto-auth): see "
             "/__vault-proxy/ready for the reason";
    case ErrorCode::local_policy:
      return "vault-proxy's local policy refused the request; nothing was sent to the vault";
    case ErrorCode::upstream_connect:
      return "vault-proxy could not connect to the upstream vault: check the host is up and "
             "reachable (runbook symptom 6)";
    case ErrorCode::upstream_tls:
      return "vault-proxy could not establish a verified TLS connection to the upstream vault";
    case ErrorCode::upstream_timeout:
      return "the upstream vault did not answer in time";
    case ErrorCode::upstream_protocol:
      return "the upstream vault sent a malformed HTTP response";
    case ErrorCode::upstream_closed:
      return "the upstream vault closed the connection before answering";
    case ErrorCode::internal:
      return "vault-proxy hit an internal error";
  }
  return "vault-proxy hit an internal error";
}

std::string error_body(ErrorCode code, std::string_view message) {
  nlohmann::json j;
  j["message"] = std::string(message);
  j["error"] = std::string(code_name(code));
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace vp::core
