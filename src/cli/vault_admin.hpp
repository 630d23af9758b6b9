#pragma once
// What the `secret` and `identity` commands share (docs/identities.md): the admin identity's
// credentials (INFISICAL_CLIENT_ID / _SECRET, their _FILE variants or $CREDENTIALS_DIRECTORY), the
// project (INFISICAL_PROJECT_ID or --project), the route to the vault (the running proxy found
// through its state file, else straight to the upstream with the service token), one admin login
// per command and the revoke of its token at the end, and the plan that --dry-run prints.

#include "config/config.hpp"
#include "core/credentials.hpp"
#include "infisical/client.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace vp::cli {

/// Options every admin command takes.
struct AdminOptions {
  config::Flags flags;                  ///< the configuration flags (upstream, CA, ...)
  std::optional<std::string> project;   ///< --project; default $INFISICAL_PROJECT_ID
  std::string environment = "prod";     ///< --env
  bool json = false;                    ///< --json
  bool dry_run = false;                 ///< --dry-run: print the planned calls, send nothing
  bool direct = false;                  ///< --direct: skip the running proxy
  double timeout_s = 30;                ///< --timeout: the whole command's budget
};

/// Registers the shared options on `cmd`.
void add_admin_options(CLI::App& cmd, AdminOptions& o);

/// Everything resolved before the first call.
struct AdminContext {
  config::Config cfg;
  std::string project_id;
  core::ServiceToken admin;            ///< the admin identity's client id and secret
  infisical::Endpoint endpoint;
  std::string route;             ///< "the proxy on http://127.0.0.1:2019" / "https://vault... directly"
  std::chrono::steady_clock::time_point deadline;
};

/// Resolves configuration, credentials, project and route. On a problem, prints it to `err`
/// (prefixed with `command`) and returns nullopt with `exit_code` set.
std::optional<AdminContext> prepare_admin(const AdminOptions& o, const config::Env& env, std::string_view command,
                                          std::ostream& err, int& exit_code);

/// The body of a command: the client and the admin's access token.
using AdminBody = std::function<net::awaitable<int>(infisical::Client&, const core::Secret& token)>;

/// Logs the admin in once, runs `body`, and revokes the token whatever `body` returned. Returns
/// `body`'s exit code, or exit_failure when the login failed (the reason is printed to `err`).
int with_admin_session(const AdminContext& ctx, std::string_view command, std::ostream& err, const AdminBody& body);

/// Runs a coroutine to completion on its own io_context (the CLI is synchronous).
int run_coroutine(const std::function<net::awaitable<int>(net::any_io_executor)>& fn);

/// The calls --dry-run prints, in order. Secrets appear as `<redacted>` only.
struct Plan {
  struct Call {
    std::string method;
    std::string target;
    std::string note;
  };
  std::vector<Call> calls;
  void add(std::string method, std::string target, std::string note = {}) {
    calls.push_back({std::move(method), std::move(target), std::move(note)});
  }
  /// The login first and the revoke last, around the command's own calls.
  void wrap_in_session();
  /// Human text or JSON {"dry_run": true, "route": ..., "calls": [...]}.
  void print(std::ostream& out, bool json, const std::string& route) const;
};

/// The frame of an admin command: a non-empty `usage_problem` → exit 2; prepare_admin(); with
/// --dry-run, `plan` fills the plan (the session's login and revoke are added) and it is printed;
/// else `body` runs inside with_admin_session().
int run_admin_command(const AdminOptions& o, const config::Env& env, std::string_view command,
                      const std::string& usage_problem, const std::function<void(Plan&)>& plan,
                      const std::function<net::awaitable<int>(const AdminContext&, infisical::Client&,
                                                              const core::Secret&)>& body);

/// "MCP-main_loop.x" → "MCP_MAIN_LOOP_X": upper case, every other character '_'.
std::string key_prefix_of(std::string_view name);

}  // namespace vp::cli
