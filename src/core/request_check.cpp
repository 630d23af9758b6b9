#include "core/request_check.hpp"

#include <openssl/crypto.h>

#include <charconv>

namespace vp::core {
namespace {

// Splits "name[:port]" / "[v6][:port]" into name and optional port text.
bool split_authority(std::string_view host, std::string_view& name, std::string_view& port) {
  port = {};
  if (host.empty()) return false;
  if (host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    name = host.substr(0, close + 1);
    auto rest = host.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':') return false;
    port = rest.substr(1);
    return !port.empty();
  }
  auto colon = host.rfind(':');
  if (colon == std::string_view::npos) {
    name = host;
    return true;
  }
  name = host.substr(0, colon);
  port = host.substr(colon + 1);
  return !name.empty() && !port.empty();
}

// RFC 3986 §2.3 unreserved and §2.2 sub-delims: the bytes a reg-name may hold besides "%XX".
bool is_reg_name_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=").find(c) != std::string_view::npos;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool reg_name_valid(std::string_view name) {
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%') {
      if (i + 2 >= name.size() || !is_hex(name[i + 1]) || !is_hex(name[i + 2])) return false;
      i += 2;
    } else if (!is_reg_name_char(name[i])) {
      return false;
    }
  }
  return true;
}

// The inside of "[...]": an IPv6 address (hex, ':' and a dotted IPv4 tail) or IPvFuture.
bool ip_literal_valid(std::string_view inside) {
  if (inside.empty()) return false;
  if (inside.front() == 'v' || inside.front() == 'V') {  // IPvFuture: "v" HEXDIG+ "." ( unreserved / sub-delims / ":" )+
    for (char c : inside.substr(1))
      if (!is_reg_name_char(c) && c != ':') return false;
    return inside.size() > 3;
  }
  for (char c : inside)
    if (!is_hex(c) && c != ':' && c != '.') return false;
  return true;
}

bool origin_allowed(std::string_view origin, const CheckPolicy& policy) {
  // Origin = scheme "://" host [ ":" port ]; only http on our own loopback authority is ours.
  constexpr std::string_view http_scheme = "http://";
  if (origin.size() <= http_scheme.size() || !beast::iequals(origin.substr(0, 7), http_scheme))
    return false;
  return host_allowed(origin.substr(http_scheme.size()), policy);
}

}  // namespace

std::optional<std::string> strip_capability(std::string_view target, std::string_view token) {
  if (token.empty() || target == "/__vault-proxy/health") return std::string(target);
  if (target.size() < token.size() + 1 || target[0] != '/') return std::nullopt;
  if (CRYPTO_memcmp(target.data() + 1, token.data(), token.size()) != 0) return std::nullopt;
  auto rest = target.substr(token.size() + 1);
  if (rest.empty() || rest.front() == '?') return "/" + std::string(rest);
  if (rest.front() != '/') return std::nullopt;
  return std::string(rest);
}

bool host_field_valid(std::string_view value) {
  if (value.empty()) return true;  // RFC 9112 §3.2: empty when the target has no authority
  std::string_view host = value, port;
  if (value.front() == '[') {
    auto close = value.find(']');
    if (close == std::string_view::npos || !ip_literal_valid(value.substr(1, close - 1))) return false;
    host = value.substr(0, close + 1);
    auto rest = value.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    port = rest.empty() ? rest : rest.substr(1);
  } else {
    auto colon = value.find(':');
    host = value.substr(0, colon);
    if (colon != std::string_view::npos) port = value.substr(colon + 1);
    if (!reg_name_valid(host)) return false;
  }
  for (char c : port)
    if (c < '0' || c > '9') return false;
  return true;
}

std::optional<OwnAbsoluteForm> own_absolute_form(std::string_view target, const CheckPolicy& policy) {
  constexpr std::string_view scheme = "http://";
  if (target.size() <= scheme.size() || !beast::iequals(target.substr(0, scheme.size()), scheme))
    return std::nullopt;
  auto rest = target.substr(scheme.size());
  auto end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, end);
  if (authority.empty() || !host_field_valid(authority) || !host_allowed(authority, policy)) return std::nullopt;
  auto tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (!tail.empty() && tail.front() == '#') return std::nullopt;  // a fragment is never sent
  OwnAbsoluteForm out{std::string(authority), std::string(tail)};
  if (tail.empty() || tail.front() == '?') out.origin_form.insert(0, "/");
  return out;
}

bool host_allowed(std::string_view host, const CheckPolicy& policy) {
  std::string_view name, port;
  if (!split_authority(host, name, port)) return false;
  if (!port.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || p != port.data() + port.size() || value != policy.port) return false;
  }
  for (std::string_view allowed : {"localhost", "127.0.0.1", "[::1]"})
    if (beast::iequals(name, allowed)) return true;
  for (auto const& extra : policy.extra_hosts)
    if (beast::iequals(name, extra)) return true;
  return false;
}

CheckResult check_request(const http::request_header<>& req, const CheckPolicy& policy) {
  CheckResult r;
  auto refuse = [&](ErrorCode code, std::string msg) {
    r.refusal = Refusal{code, std::move(msg)};
    return r;
  };

  if (req.method() == http::verb::connect)
    return refuse(ErrorCode::method_not_allowed,
                  "vault-proxy is not a forward proxy: CONNECT is not allowed");
  // An upstream that echoes a TRACE request (RFC 9110 §9.3.8) would hand the injected service
  // token back to the client.
  if (req.method() == http::verb::trace)
    return refuse(ErrorCode::method_not_allowed,
                  "vault-proxy does not forward TRACE: the echo would carry the injected service token");

  auto target = req.target();
  if (target == "*") {
    if (req.method() != http::verb::options)
      return refuse(ErrorCode::bad_request, "the asterisk request-target is only valid with OPTIONS");
  } else if (target.empty() || target.front() != '/') {
    // Absolute-form and authority-form would let a client name another host (open proxy).
    return refuse(ErrorCode::bad_request,
                  "vault-proxy only accepts origin-form request targets (a path starting with /)");
  }

  // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request with no Host or more than one.
  auto hosts = req.count(http::field::host);
  if (hosts > 1) return refuse(ErrorCode::bad_request, "the request has more than one Host field");
  if (hosts == 0 && req.version() >= 11)
    return refuse(ErrorCode::bad_request, "an HTTP/1.1 request must have a Host field");

  if (hosts == 1 && !host_field_valid(req[http::field::host]))
    return refuse(ErrorCode::bad_request,
                  "the Host field is not a valid host[:port] (RFC 9112 §3.2): no user@, path, space or list");
  if (policy.check_host && hosts == 1 && !host_allowed(req[http::field::host], policy))
    return refuse(ErrorCode::misdirected_request,
                  "vault-proxy only answers requests addressed to localhost, 127.0.0.1 or [::1] on "
                  "its own port (DNS-rebinding protection)");

  if (req.count(http::field::origin) > 0 && !origin_allowed(req[http::field::origin], policy))
    return refuse(ErrorCode::forbidden_origin,
                  "vault-proxy refuses requests from web pages (cross-origin Origin header)");
  auto site = req["Sec-Fetch-Site"];
  if (beast::iequals(site, "cross-site") || beast::iequals(site, "same-site"))
    return refuse(ErrorCode::forbidden_origin,
                  "vault-proxy refuses requests from web pages (Sec-Fetch-Site)");

  if (target.starts_with(local_prefix) || target == local_prefix.substr(0, local_prefix.size() - 1))
    r.route = Route::local;
  return r;
}

}  // namespace vp::core
