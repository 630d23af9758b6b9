#pragma once
// The checks of `vault-proxy doctor`: the runbook's "How to diagnose (in order)", automated. Each
// check returns a CheckResult; a check whose premise failed earlier is `skip` with the reason.
// A check is a gather (I/O, doctor_gather.hpp) and a pure judge (doctor_judge.hpp); their order and
// premises are a list in doctor_checks.cpp.
//
//   1 listener        something listens on the port, and it is vault-proxy       (failure mode A)
//   2 health          /__vault-proxy/health, /ready and /status
//   3 upstream        DNS, TCP and TLS straight to the vault; days until the certificate expires
//   4 access          GET /api/status straight to the vault with and without the service token,
//                     classified by core::classify                                 (failure mode B)
//   5 infisical       GET /api/status through the proxy
//   6 identity-login  one universal-auth login through the proxy (optional)       (failure mode C)
//   7 secret-read     get-secret of a key in scope (optional)                     (failure mode D)
//     secret-scope    get-secret outside the scope, where 403 is expected (optional)
//   8 mcp-json        .mcp.json has an Infisical entry that points at this proxy  (failure mode E)

#include "cli/doctor_report.hpp"
#include "config/config.hpp"
#include "config/credentials.hpp"
#include "core/secret.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace vp::cli::doctor {

/// The optional secret-read checks; all of project_id, environment, in_scope_path and key are
/// needed for a read, out_of_scope_path adds the second one.
struct ReadPlan {
  std::optional<std::string> project_id;
  std::optional<std::string> environment;
  std::optional<std::string> in_scope_path;
  std::optional<std::string> key;
  std::optional<std::string> out_of_scope_path;
};

/// Which .mcp.json check 8 reads, and how strictly.
struct McpJsonPlan {
  std::string path = ".mcp.json";
  std::string shown_as = ".mcp.json";  ///< the path as messages name it, e.g. "… (the repository root)"
  bool required = false;               ///< missing: fail (else warn)
};

/// Everything the checks need, already loaded (config and credentials exactly as `serve` loads them).
struct Inputs {
  config::Config cfg;
  config::CredentialLoad credentials;
  std::string client_id_var = "INFISICAL_MCP_CLIENT_ID";
  std::string client_secret_var = "INFISICAL_MCP_CLIENT_SECRET";
  std::optional<core::Secret> identity_client_id;      ///< value of client_id_var, if set
  std::optional<core::Secret> identity_client_secret;  ///< value of client_secret_var, if set
  ReadPlan reads;
  McpJsonPlan mcp_json;
  config::Env env;  ///< expands the ${VAR} references of .mcp.json (the environment doctor runs in)
  std::chrono::milliseconds budget{20'000};  ///< one overall time budget for every check
  int cert_warn_days = 14;                   ///< warn when the upstream certificate expires sooner
};

/// Runs every check in order and returns the report. Network steps are bounded by what is left of
/// `budget`; checks the budget does not reach are `fail` ("not run"). No output is printed here.
Report run_checks(const Inputs& inputs);

/// The address doctor dials for the proxy: the listen address, with a wildcard replaced by loopback.
std::string proxy_dial_host(const config::Config& cfg);

/// Check 8 on the file's text (nullopt: the file does not exist or cannot be read). Pure, so that it
/// can be tested without files. `proxy_host`/`proxy_port` are where the proxy listens; `env`
/// expands the entry's ${VAR} and ${VAR:-default} references as Claude Code will.
CheckResult evaluate_mcp_json(const McpJsonPlan& plan, const std::optional<std::string>& text,
                              const std::string& proxy_host, std::uint16_t proxy_port, const config::Env& env);

}  // namespace vp::cli::doctor
