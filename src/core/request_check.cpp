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
