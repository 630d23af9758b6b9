#pragma once
// `vault-proxy doctor`: the runbook's "How to diagnose (in order)" as one command. The checks are in
// doctor_checks.hpp, the rendering in doctor_report.hpp; this file is the command line.

#include "config/config.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <ostream>
#include <string>

namespace vp::cli {

/// Options of `doctor`.
struct DoctorOptions {
  config::Flags flags;                 ///< the same configuration flags as serve
  bool json = false;                   ///< --json: machine-readable output
  double timeout_s = 20.0;             ///< one overall budget for all checks
  std::string client_id_var = "INFISICAL_MCP_CLIENT_ID";
  std::string client_secret_var = "INFISICAL_MCP_CLIENT_SECRET";
  std::optional<std::string> project_id;
  std::optional<std::string> environment;
  std::optional<std::string> in_scope_path;
  std::optional<std::string> key;
  std::optional<std::string> out_of_scope_path;
  std::string mcp_json;            ///< empty: <repository root>/.mcp.json (cli/project_root.hpp)
  bool require_mcp_json = false;   ///< a missing .mcp.json fails instead of warning
  int cert_warn_days = 14;
};

/// Registers the subcommand; the callback stores the exit code in `exit_code`.
void add_doctor(CLI::App& app, int& exit_code);

/// Runs every check and prints the report to `out` (table or JSON). Returns exit_ok when no check
/// failed, exit_failure otherwise, exit_usage for a configuration error (printed to `err`).
int run_doctor(const DoctorOptions& options, const config::Env& env, std::ostream& out, std::ostream& err);

}  // namespace vp::cli
