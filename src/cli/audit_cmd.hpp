#pragma once
// `vault-proxy audit`: what each local process did with the vault through the proxy, from the
// audit trail (docs/guardrails.md, "The audit trail"): per process the secrets it read, the
// listings, writes, refusals (with the rule), failures and logins, then totals.

#include "config/config.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace vp::cli {

/// Options of `audit`.
struct AuditOptions {
  std::optional<std::string> since;        ///< --since: "90s", "15m", "1h", "2d", or an RFC 3339 time
  bool json = false;                       ///< --json: summary_json() on stdout
  std::optional<std::string> file;         ///< --file: read this audit file instead of the configured one
  std::optional<long> pid;                 ///< --pid: only this client process
  std::optional<std::string> config_file;  ///< --config: the TOML file that may name audit_log
};

/// Registers the subcommand; the callback stores the exit code in `exit_code`.
void add_audit(CLI::App& app, int& exit_code);

/// Prints the summary on `out` and problems on `err`. Returns exit_ok (also when there are no
/// records), exit_usage for a bad --since or configuration, exit_failure when a file of the trail
/// was refused or could not be read (the others are still summarised).
int run_audit(const AuditOptions& options, const config::Env& env, std::ostream& out, std::ostream& err,
              std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// `--since`: a duration before `now` ("90s", "15m", "1h", "2d": a whole number and one unit) or
/// an RFC 3339 time; nullopt when it is neither.
std::optional<std::chrono::system_clock::time_point> parse_since(std::string_view text,
                                                                 std::chrono::system_clock::time_point now);

}  // namespace vp::cli
