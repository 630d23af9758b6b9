#pragma once
// rewrite_response's classifier: names the cause of every non-2xx answer and redirect, so that a
// Cloudflare deny page or an Access login redirect never reaches the user as a bare status.
// Runbook mapping: cf_access_* = symptom 2 / failure mode B; origin_auth = symptom 3 / mode C;
// origin_rbac = symptoms 4-5 / mode D; upstream_* = symptom 6.

#include <optional>
#include <string>
#include <string_view>

namespace vp::core {

enum class Diagnosis {
  none,                       ///< 1xx/2xx, or 304
  cf_access_unauthenticated,  ///< Access 401, or a 3xx to /cdn-cgi/access/login or *.cloudflareaccess.com
  cf_access_forbidden,        ///< the Access deny page (403)
  cf_challenge,               ///< `cf-mitigated: challenge`
  cf_edge_block,              ///< `error code: 1010` / `1020` (browser signature or firewall rule)
  origin_auth,                ///< Infisical 401, or 403 TokenError (expired / malformed token)
  origin_rbac,                ///< Infisical 403 PermissionDenied / ForbiddenError
  upstream_redirect,          ///< any other 3xx (passed through, never followed)
  upstream_client_error,      ///< any other 4xx
  upstream_server_error,      ///< any other 5xx
};

/// What the classifier looks at: the status, a few header values and the start of the body.
struct ResponseFacts {
  unsigned status = 0;
  std::string_view location;
  std::string_view content_type;
  std::string_view cf_mitigated;
  std::string_view server;
  bool has_cf_ray = false;
  std::string_view body;  ///< up to the first 64 KiB (empty when not read)
};

/// Classifies one upstream answer.
Diagnosis classify(const ResponseFacts& facts);

/// The facts classify() reads, taken from a response's fields: cf-mitigated always, Location and
/// Content-Type only for a status classify() looks into further (3xx other than 304, 4xx, 5xx).
/// Each lookup walks the field map with case-insensitive compares, and a 2xx answer, nearly every
/// proxied request, needs only the first (issue 17). Server and CF-Ray are left out: classify()
/// does not read them.
template <class Fields>
ResponseFacts response_facts(unsigned status, const Fields& fields, std::string_view body) {
  ResponseFacts f{.status = status, .location = {}, .content_type = {}, .cf_mitigated = fields["cf-mitigated"],
                  .server = {}, .has_cf_ray = false, .body = body};
  if (status >= 300 && status != 304) {
    f.location = fields["location"];
    f.content_type = fields["content-type"];
  }
  return f;
}

/// The wire name, e.g. "cf_access_forbidden"; empty for none.
std::string_view diagnosis_name(Diagnosis d) noexcept;

/// True for answers that come from Cloudflare rather than the origin: these are replaced by a JSON
/// error (the real client only shows a JSON `message`); Infisical's own JSON passes unchanged.
bool replaced_by_proxy(Diagnosis d) noexcept;

/// The status sent to the client for a replaced answer (a login redirect becomes 401).
unsigned replaced_status(Diagnosis d, unsigned upstream_status) noexcept;

/// The user-facing cause and fix for a class (follows the runbook).
std::string_view diagnosis_message(Diagnosis d) noexcept;

}  // namespace vp::core
