#pragma once
// `vault-proxy identity provision | validate | rotate | revoke` (docs/identities.md): the runbook's
// "Provisioning a NEW agent identity" template and its RULES, enforced. Identities this tool creates
// carry the metadata `managed-by=vault-proxy`; any other identity is left alone unless --adopt.

#include "cli/vault_admin.hpp"
#include "infisical/admin_identity.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace vp::cli {

/// The ownership mark set on every identity `provision` creates.
inline constexpr const char* owner_key = "managed-by";
inline constexpr const char* owner_value = "vault-proxy";

/// Options of `identity provision`.
struct ProvisionOptions {
  AdminOptions admin;
  std::string name;
  std::string path_glob;
  std::int64_t ttl = 3600;
  std::int64_t max_ttl = 7200;
  std::optional<std::string> key_prefix;
  bool allow_broad = false;
  bool adopt = false;
};

/// Registers `identity` with its subcommands.
void add_identity(CLI::App& app, int& exit_code);

/// Runs the provisioning steps; exit 0 when every step is done (created or found), 1 when one
/// failed (the table says which, and a re-run continues there), 2 usage or configuration.
int run_provision(const ProvisionOptions& o, const config::Env& env);

/// "" when `glob` may be granted; otherwise why not. `/**` and any glob whose first folder holds a
/// wildcard are refused unless `allow_broad`.
std::string glob_problem(std::string_view glob, bool allow_broad);

/// "" when `name` is usable as an identity name and a folder name (letters, digits, '-', '_').
std::string identity_name_problem(std::string_view name);

/// Where `provision` stores an identity's credentials: /MooseQuest/identities/<name>.
std::string credentials_path(std::string_view name);

/// The additional privilege's slug: the name in lower case, '_' as '-', then "-read".
std::string privilege_slug(std::string_view name);

/// One step of a multi-step command, for the table and the JSON.
struct StepResult {
  std::string step;    ///< "identity", "universal auth", ...
  std::string status;  ///< "created", "exists", "failed", "skipped", "revoked", "not due"
  std::string detail;  ///< ids, names, versions; never a secret
};

/// Prints the steps as a table (or JSON with `extra` merged in).
void print_steps(std::ostream& out, const std::string& title, const std::vector<StepResult>& steps, bool json,
                 nlohmann::json extra = nlohmann::json::object());

/// The identity named `name`, when exactly one exists; `owned` says whether it carries the mark.
/// On a problem (several with the name, a failed call) `problem` is set.
struct FoundIdentity {
  std::optional<infisical::IdentityInfo> identity;
  bool owned = false;
  std::string problem;
};
net::awaitable<FoundIdentity> find_identity(infisical::Admin& admin, infisical::IdentityAdmin& ids,
                                            const std::string& project_id, const std::string& name,
                                            std::string& org_id, std::chrono::steady_clock::time_point dl);

}  // namespace vp::cli
