#pragma once
// `vault-proxy status`: is the proxy running, and how is it doing? The proxy is found through its
// runtime state file (never by process name) and asked for GET /__vault-proxy/status.

#include "config/config.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace vp::cli {

/// Options of `status`.
struct StatusOptions {
  std::optional<std::uint16_t> port;           ///< only the proxy on this port; unset = every recorded one
  bool json = false;                           ///< machine-readable output on stdout
  std::chrono::milliseconds timeout{3'000};    ///< for the status request
};

/// Registers the subcommand; the callback stores the exit code in `exit_code`.
void add_status(CLI::App& app, int& exit_code);

/// Prints the status of every running proxy (stale state files are removed with a note).
/// Returns exit_ok when at least one proxy runs, exit_not_running otherwise.
int run_status(const StatusOptions& options, const config::Env& env);

}  // namespace vp::cli
