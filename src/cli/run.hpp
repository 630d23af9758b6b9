#pragma once
// `vault-proxy run -- <command…>`: the runbook's "Session start" steps 2–5 in one line. It starts
// `vault-proxy serve` as a child (the same binary), waits until /__vault-proxy/health answers, runs
// the command with VAULT_PROXY_URL and INFISICAL_HOST_URL pointing at the proxy, stops the proxy
// when the command exits, and exits with the command's status.

#include "config/config.hpp"

#include "core/secret.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace vp::cli {

/// Options of `run`.
struct RunOptions {
  std::optional<std::string> port;         ///< --port for serve (0 = ephemeral); default: the configured port
  std::optional<std::string> config_file;  ///< --config for serve
  std::optional<std::string> policy;       ///< --policy for serve (docs/guardrails.md)
  /// Where the proxy's log goes: a file, "-" for this process's stderr, or empty for
  /// `<state dir>/run-<pid>.log` (so an interactive command's screen is not interleaved with it).
  std::string log_file;
  std::chrono::milliseconds ready_timeout{15'000};  ///< proxy start → health 200
  bool keep_credential_env = false;  ///< pass CF_ACCESS_CLIENT_* on to the command (default: removed)
  bool auto_auth = false;  ///< serve --auto-auth; the command gets VAULT_PROXY_LOCAL_TOKEN (docs/auto-auth.md)
  std::vector<std::string> command;  ///< argv of the command; run without a shell
};

/// Registers the subcommand; the callback stores the exit code in `exit_code`.
void add_run(CLI::App& app, int& exit_code);

/// Runs the proxy around the command. Returns the command's exit status (128+signal when a signal
/// killed it), 127/126 when the command cannot be started, or the proxy's own exit code (2, 3) when
/// the proxy does not start.
int run_run(const RunOptions& options, const config::Env& env);

/// The command's environment: `base` ("NAME=value" strings) without the credential variables
/// (unless `keep_credentials`), plus VAULT_PROXY_URL, INFISICAL_HOST_URL and VAULT_PROXY_PORT, and
/// loopback added to NO_PROXY / no_proxy; with `local_token` (auto-auth), VAULT_PROXY_LOCAL_TOKEN.
std::vector<std::string> child_environment(const std::vector<std::string>& base, const std::string& url,
                                           std::uint16_t port, bool keep_credentials,
                                           const core::Secret* local_token = nullptr);

}  // namespace vp::cli
