#pragma once
// `vault-proxy stop`: the runbook's emergency stop. It signals only the process its runtime state
// file records, after checking that the pid still is that vault-proxy (same start time, a
// vault-proxy binary); SIGTERM first, SIGKILL after the deadline. `--revert` also removes the
// .mcp.json entry that mcp-config wrote.

#include "config/config.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace vp::cli {

/// Options of `stop`.
struct StopOptions {
  std::optional<std::uint16_t> port;           ///< only the proxy on this port; unset = every recorded one
  std::chrono::milliseconds timeout{15'000};   ///< SIGTERM → SIGKILL deadline
  bool revert = false;                         ///< also remove vault-proxy's .mcp.json entry
  std::string mcp_json;  ///< the file --revert edits; empty: .mcp.json at the repository root
  bool json = false;                           ///< machine-readable report on stdout
};

/// Registers the subcommand; the callback stores the exit code in `exit_code`.
void add_stop(CLI::App& app, int& exit_code);

/// Stops the recorded proxies. Returns exit_ok when at least one was stopped, exit_not_running
/// when none runs, exit_failure when a state file names a live process that is not the recorded
/// proxy (nothing is signalled) or a proxy would not die, exit_usage on bad options.
int run_stop(const StopOptions& options, const config::Env& env);

}  // namespace vp::cli
