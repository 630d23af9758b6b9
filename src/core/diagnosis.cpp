#include "core/diagnosis.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace vp::core {
namespace {

bool icontains(std::string_view hay, std::string_view needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         }) != hay.end();
}

bool is_json(std::string_view content_type) { return icontains(content_type, "json"); }

bool access_login_location(std::string_view location) {
  // The Access login URL: https://<team>.cloudflareaccess.com/cdn-cgi/access/login/<host>?...
  return icontains(location, "/cdn-cgi/access/login") || icontains(location, "cloudflareaccess.com");
}

// The `error` field of an Infisical error envelope, when the body is one.
std::optional<std::string> origin_error_name(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto it = j.find("error");
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

Diagnosis classify(const ResponseFacts& f) {
  if (icontains(f.cf_mitigated, "challenge")) return Diagnosis::cf_challenge;
  if (f.status < 300 || f.status == 304) return Diagnosis::none;
  if (f.status < 400) {
    return access_login_location(f.location) ? Diagnosis::cf_access_unauthenticated
                                             : Diagnosis::upstream_redirect;
  }
  if (icontains(f.body, "error code: 1010") || icontains(f.body, "error code: 1020"))
    return Diagnosis::cf_edge_block;
  if (f.status == 401 || f.status == 403) {
    if (is_json(f.content_type)) {
      auto name = origin_error_name(f.body);
      if (name == "TokenError" || name == "UnauthorizedError") return Diagnosis::origin_auth;
      if (name == "PermissionDenied" || name == "ForbiddenError") return Diagnosis::origin_rbac;
      // The Access deny page also exists as JSON, carrying aud / ray_id / status_code.
      if (icontains(f.body, "\"ray_id\"") || icontains(f.body, "\"aud\""))
        return f.status == 401 ? Diagnosis::cf_access_unauthenticated : Diagnosis::cf_access_forbidden;
      return f.status == 401 ? Diagnosis::origin_auth : Diagnosis::origin_rbac;
    }
    // Not JSON: Infisical always answers JSON, so this came from Cloudflare in front of it.
    return f.status == 401 ? Diagnosis::cf_access_unauthenticated : Diagnosis::cf_access_forbidden;
  }
  return f.status < 500 ? Diagnosis::upstream_client_error : Diagnosis::upstream_server_error;
}

std::string_view diagnosis_name(Diagnosis d) noexcept {
  switch (d) {
    case Diagnosis::none: return "";
    case Diagnosis::cf_access_unauthenticated: return "cf_access_unauthenticated";
    case Diagnosis::cf_access_forbidden: return "cf_access_forbidden";
    case Diagnosis::cf_challenge: return "cf_challenge";
    case Diagnosis::cf_edge_block: return "cf_edge_block";
    case Diagnosis::origin_auth: return "origin_auth";
    case Diagnosis::origin_rbac: return "origin_rbac";
    case Diagnosis::upstream_redirect: return "upstream_redirect";
    case Diagnosis::upstream_client_error: return "upstream_client_error";
    case Diagnosis::upstream_server_error: return "upstream_server_error";
  }
  return "";
}

bool replaced_by_proxy(Diagnosis d) noexcept {
  switch (d) {
    case Diagnosis::cf_access_unauthenticated:
    case Diagnosis::cf_access_forbidden:
    case Diagnosis::cf_challenge:
    case Diagnosis::cf_edge_block:
      return true;
    default:
      return false;
  }
}

unsigned replaced_status(Diagnosis d, unsigned upstream_status) noexcept {
  if (d == Diagnosis::cf_access_unauthenticated && upstream_status < 400) return 401;
  return upstream_status;
}

std::string_view diagnosis_message(Diagnosis d) noexcept {
  switch (d) {
    case Diagnosis::cf_access_unauthenticated:
      return "Cloudflare Access did not accept the service token (it answered 401 or redirected to "
             "its login page). Check that CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET are set "
             "for vault-proxy and current, and that the Access application has a Service Auth policy "
             "that includes this token (runbook failure mode B).";
    case Diagnosis::cf_access_forbidden:
      return "Cloudflare Access denied the request (403 deny page): the service token is missing, "
             "stale or not allowed by the application's Service Auth policy. Refresh "
             "CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET and restart vault-proxy, or check the "
             "policy (runbook failure mode B).";
    case Diagnosis::cf_challenge:
      return "Cloudflare answered with a browser challenge (cf-mitigated: challenge): Bot Fight Mode "
             "or a WAF rule is challenging API traffic. Bot Fight Mode cannot be skipped by WAF "
             "rules: turn it off for the vault hostname, or use a WAF skip rule for vault-proxy's "
             "User-Agent.";
    case Diagnosis::cf_edge_block:
      return "Cloudflare's edge blocked the request before Access checked it (error code 1010/1020: "
             "browser signature or firewall rule). Check Browser Integrity Check and the WAF skip "
             "rule for vault-proxy's User-Agent (runbook: CF WAF skip rule).";
    case Diagnosis::origin_auth:
      return "Infisical rejected the identity or its access token (wrong or revoked client secret, "
             "or an expired token): see runbook failure mode C.";
    case Diagnosis::origin_rbac:
      return "Infisical denied this read for the identity's permissions (runbook failure mode D).";
    case Diagnosis::upstream_redirect:
      return "the upstream answered with a redirect; vault-proxy never follows redirects.";
    case Diagnosis::upstream_client_error:
      return "the upstream refused the request.";
    case Diagnosis::upstream_server_error:
      return "the upstream failed to serve the request.";
    case Diagnosis::none:
      return "";
  }
  return "";
}

}  // namespace vp::core
