#pragma once
// check_request: the first phase of every request. Decides, from the header alone, whether the
// request may go upstream, is a local endpoint, or must be refused (and with which error).

#include "core/error.hpp"
#include "core/http.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vp::core {

/// Who may talk to the proxy.
struct CheckPolicy {
  std::uint16_t port = 2019;             ///< the listening port, for Host checks
  std::vector<std::string> extra_hosts;  ///< configured names besides localhost, 127.0.0.1, [::1]
  bool check_host = true;                ///< off for Unix-socket listeners' tests only
};

/// A refusal: the error and a specific message.
struct Refusal {
  ErrorCode code;
  std::string message;
};

/// Where the request goes.
enum class Route { upstream, local };

/// Result of check_request.
struct CheckResult {
  std::optional<Refusal> refusal;  ///< set: answer with this error, send nothing upstream
  Route route = Route::upstream;
};

/// The reserved prefix for the proxy's own endpoints; never forwarded.
inline constexpr std::string_view local_prefix = "/__vault-proxy/";

/// Applies the request rules: method (CONNECT and TRACE refused), request-target form (origin-form only,
/// `OPTIONS *` allowed), exactly one Host on HTTP/1.1, Host on the loopback allowlist (DNS
/// rebinding), no browser cross-site markers (Origin not on the allowlist, Sec-Fetch-Site
/// cross-site/same-site).
CheckResult check_request(const http::request_header<>& req, const CheckPolicy& policy);

/// With a capability token, every target but `/__vault-proxy/health` must start with "/<token>"
/// followed by "/", "?" or its end. Returns the target without the prefix (the health target and
/// every target when `token` is empty come back unchanged), or nullopt when the prefix is missing.
/// The comparison takes the same time wherever the first difference is.
std::optional<std::string> strip_capability(std::string_view target, std::string_view token);

/// True when `value` is a syntactically valid Host field value (RFC 9112 §3.2, RFC 3986 §3.2.2):
/// empty, or `uri-host [":" port]` where uri-host is a bracketed IP literal or a reg-name
/// (unreserved, pct-encoded and sub-delims bytes) and port is digits. Userinfo (`user@`), a path,
/// spaces and a second authority are not. An invalid value is a 400; a valid one that names
/// another host is a 421.
bool host_field_valid(std::string_view value);

/// An absolute-form request-target that names this proxy (RFC 9112 §3.2.2: a server MUST accept
/// absolute-form), taken apart.
struct OwnAbsoluteForm {
  std::string authority;    ///< what replaces the Host field (the target's authority wins)
  std::string origin_form;  ///< path and query, "/" when the path is empty
};

/// `http://AUTHORITY[path][?query]` where AUTHORITY is host_allowed(): this proxy, named in full.
/// nullopt for any other target, including absolute-form naming another authority, which
/// check_request refuses (an open proxy would forward it).
std::optional<OwnAbsoluteForm> own_absolute_form(std::string_view target, const CheckPolicy& policy);

/// True when `host` (a Host field value) names this proxy: an allowlisted name, with no port or
/// with `policy.port`.
bool host_allowed(std::string_view host, const CheckPolicy& policy);

}  // namespace vp::core
