#pragma once
// The fix texts of doctor's verdicts, in one place because they follow the runbook's wording
// ("Known failure modes" A-E, symptoms 1-6 and "Escalation"). Only the verdicts use them.

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "core/diagnosis.hpp"

namespace vp::cli::doctor::runbook {

inline constexpr std::string_view fix_start_proxy =
    "Start the proxy: vault-proxy serve (or vault-proxy run -- <command>), then re-run vault-proxy "
    "doctor. Runbook failure mode A.";

inline constexpr std::string_view fix_mode_b =
    "Refresh CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET from the vault "
    "(docs/ops/runbooks/cf-access.md) and restart vault-proxy with them. Check that the Access "
    "application's Service Auth policy includes this service token and that the CF WAF skip rule "
    "is active (docs/ops/runbooks/vault-access.md). If the token may be compromised, rotate it via "
    "Velvet now and stop the proxy (vault-proxy stop) until then. Runbook failure mode B.";

/// The proxy runs without a service token (its /status says so, or it answered credentials_missing).
inline constexpr std::string_view fix_restart_with_token =
    "Restart vault-proxy with CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET set (or their "
    "_FILE variants, or $CREDENTIALS_DIRECTORY). Runbook failure mode B.";

inline constexpr std::string_view fix_symptom_6 =
    "The vault is unreachable (runbook symptom 6): check the Infisical host's health "
    "(docs/ops/runbooks/vault-access.md) and the network path from this machine.";

inline constexpr std::string_view fix_mode_c =
    "Retrieve the current client secret from the vault (MCP_RO_CLIENT_SECRET, at "
    "/MooseQuest/identities/infisical-identity-mcp-main-loop-trademaster/), update "
    "INFISICAL_MCP_CLIENT_SECRET, and re-run vault-proxy mcp-config if needed. If the secret may "
    "have leaked, revoke it in the Infisical admin UI now and provision a replacement (runbook "
    "Escalation). Doctor made exactly one attempt: do not retry in a loop, three wrong secrets lock "
    "the identity for 5 minutes. Runbook failure mode C.";

inline constexpr std::string_view fix_locked =
    "Wait 5 minutes (Infisical's lockout) before anything logs in as this identity again, and fix "
    "the secret first: retrieve the current MCP_RO_CLIENT_SECRET from the vault and update "
    "INFISICAL_MCP_CLIENT_SECRET. Every further wrong attempt extends the lockout. Runbook failure "
    "mode C.";

inline constexpr std::string_view fix_mode_d =
    "Check the identity's additional privilege in the Infisical admin UI (slug mcp-main-loop-read: "
    "read on secrets, environment prod, secretPath /MooseQuest/**) and that it is still attached. "
    "Do not give the identity more than the main loop needs. Escalation: the proxy runs and "
    "Cloudflare Access passes, but an in-scope read fails; wake the operator, because this needs "
    "Infisical admin UI access. Runbook failure mode D.";

inline constexpr std::string_view fix_too_broad =
    "Narrow the identity's additional privilege (its secretPath glob) to what the main loop needs; "
    "out-of-scope paths must answer 403. Runbook failure mode D.";

inline constexpr std::string_view fix_not_retried = " Doctor does not retry the login.";

/// cf_edge_block: the classifier's advice, and the User-Agent the rule may have matched.
inline std::string fix_edge(std::string_view user_agent) {
  return fmt::format("{} vault-proxy sends User-Agent '{}'.", core::diagnosis_message(core::Diagnosis::cf_edge_block),
                     user_agent);
}

inline std::string fix_challenge() { return std::string(core::diagnosis_message(core::Diagnosis::cf_challenge)); }

}  // namespace vp::cli::doctor::runbook
