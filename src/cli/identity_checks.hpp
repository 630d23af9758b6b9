#pragma once
// `identity validate`, `identity rotate` and `identity revoke` (docs/identities.md).

#include "cli/identity_cmd.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
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

/// Registers validate (and rotate, revoke) under `identity`.
void add_identity_checks(CLI::App& identity, int& exit_code);

/// Runs the runbook's step 10 checks; exit 0 when all PASS, 1 when any FAILs, 2 usage.
int run_validate(const ValidateOptions& o, const config::Env& env);

}  // namespace vp::cli
