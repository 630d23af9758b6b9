#pragma once
// `vault-proxy serve`: run the proxy in the foreground.

#include "config/config.hpp"

#include <CLI/CLI.hpp>

namespace vp::cli {

/// Options of `serve` beyond the shared config flags.
struct ServeOptions {
  config::Flags flags;
  bool scrub_env = false;  ///< unset the credential variables after reading them
  bool auto_auth = false;  ///< --auto-auth: the same as VAULT_PROXY_AUTO_AUTH=universal-auth
};

/// Registers the subcommand; the callback stores the exit code in `exit_code`.
void add_serve(CLI::App& app, int& exit_code);

/// Runs the proxy until SIGTERM/SIGINT. Returns an exit code (exit_codes.hpp).
int run_serve(const ServeOptions& options, const config::Env& env);

/// Adds the configuration flags shared by serve and the other subcommands: --config, and one option
/// per settings row that has a flag (config/settings.hpp), with that row's help text.
void add_config_flags(CLI::App& cmd, config::Flags& flags);

}  // namespace vp::cli
