#pragma once
// `vault-proxy secret set` and `vault-proxy secret exec` (docs/identities.md): the runbook's pending
// operator action and its "Session start" step 3, without a secret ever in argv, output or a file.

#include "cli/vault_admin.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace vp::cli {

/// Where `secret set` reads the value from: exactly one of the three.
struct ValueSource {
  std::optional<std::string> env_var;  ///< --from-env VAR
  std::optional<std::string> file;     ///< --from-file F
  bool stdin_ = false;                 ///< --stdin
};

/// Options of `secret set`.
struct SecretSetOptions {
  AdminOptions admin;
  std::string name;
  std::string path;
  ValueSource source;
};

/// One `--set VAR=NAME@PATH`.
struct ExecBinding {
  std::string var;
  std::string key;
  std::string path;
};

/// Options of `secret exec`.
struct SecretExecOptions {
  AdminOptions admin;
  std::vector<std::string> sets;     ///< raw --set values
  std::vector<std::string> command;  ///< after --
};

/// Registers `secret` with its subcommands `set` and `exec`.
void add_secret(CLI::App& app, int& exit_code);
/// Registers `exec` under `secret` (secret_exec.cpp).
void add_secret_exec(CLI::App& secret, int& exit_code);

/// Stores the secret; prints `stored: NAME vN`. Exit codes: 0 stored, 1 the vault refused or could
/// not be reached, 2 usage, configuration or credentials.
int run_secret_set(const SecretSetOptions& o, const config::Env& env);

/// Reads the secrets and runs the command with them in its environment. Returns the command's exit
/// status (128+N for signal N), 127/126 when it cannot be started, 1 when a secret cannot be read,
/// 2 for usage, configuration or credentials.
int run_secret_exec(const SecretExecOptions& o, const config::Env& env);

/// Parses `VAR=NAME@PATH`; nullopt with `problem` set when it is not one.
std::optional<ExecBinding> parse_binding(std::string_view text, std::string& problem);

/// "" when `key` is a usable secret key (letters, digits, '_', '-', '.'), else the problem.
std::string key_problem(std::string_view key);
/// "" when every folder of `path` is a valid folder name (letters, digits, '-', '_'), else the problem.
std::string path_problem(std::string_view path);

}  // namespace vp::cli
