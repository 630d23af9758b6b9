#pragma once
// `identity validate`, `identity rotate` and `identity revoke` (docs/identities.md).

#include "cli/identity_cmd.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace vp::cli {

/// Options of `identity validate`.
struct ValidateOptions {
  AdminOptions admin;
  std::string name;
  std::string in_scope;      ///< KEY@PATH the identity must read
  std::string out_of_scope;  ///< a folder it must not read
  std::optional<std::string> key_prefix;
};

/// Options of `identity rotate`.
struct RotateOptions {
  AdminOptions admin;
  std::string name;
  std::optional<std::int64_t> if_older_than;  ///< seconds; rotate only when the newest secret is older
  std::optional<std::string> key_prefix;
  bool adopt = false;
};

/// Options of `identity revoke`.
struct RevokeOptions {
  AdminOptions admin;
  std::string name;
  bool yes = false;
};

/// Registers validate (and rotate, revoke) under `identity`.
void add_identity_checks(CLI::App& identity, int& exit_code);

/// Runs the runbook's step 10 checks; exit 0 when all PASS, 1 when any FAILs, 2 usage.
int run_validate(const ValidateOptions& o, const config::Env& env);

/// Create → store → verify → revoke the old ones. Exit 0 rotated (or not due), 1 a step failed (the
/// state left and the finishing command are printed), 2 usage.
int run_rotate(const RotateOptions& o, const config::Env& env);

/// Revokes every active client secret of the identity, after a confirmation unless --yes. Exit 0
/// all revoked (or none active), 1 not confirmed or a revoke failed, 2 usage.
int run_revoke(const RevokeOptions& o, const config::Env& env);

/// Registers rotate and revoke under `identity` (identity_revoke.cpp).
void add_identity_maintenance(CLI::App& identity, int& exit_code);

/// "30d", "12h", "90m", "3600s" or "3600" as seconds; nullopt when it is none of these.
std::optional<std::int64_t> parse_age(std::string_view text);

}  // namespace vp::cli
