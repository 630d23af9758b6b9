#pragma once
// Reads the service token from its sources. Values never come from argv.

#include "config/config.hpp"
#include "core/credentials.hpp"

#include <optional>
#include <vector>

namespace vp::config {

/// Outcome of reading the service token.
struct CredentialLoad {
  std::optional<core::ServiceToken> token;  ///< set when both values were found and valid
  std::vector<Issue> issues;                ///< hard errors (unreadable file, CR/LF/NUL in a value, only one half set)
  bool none_configured = false;             ///< no source named either value: warn and serve local endpoints only
  /// Configured files (`*_FILE`) that do not exist (yet): each also has an issue. A proxy may start
  /// without them, not ready, and pick them up when they appear.
  std::vector<std::string> missing_files;

  /// True when there are issues and every one is a configured file that does not exist yet.
  bool only_missing_files() const noexcept { return !issues.empty() && issues.size() == missing_files.size(); }
};

/// One half of a client id / secret pair and the names it is looked up under.
struct CredentialHalf {
  std::string_view what;       ///< for messages: "client id"
  std::string_view env;        ///< the value in the environment
  std::string_view file_env;   ///< the path of a file holding the value
  std::string_view cred_name;  ///< the file name inside $CREDENTIALS_DIRECTORY
};

/// The names of a pair.
struct CredentialNames {
  CredentialHalf id;
  CredentialHalf secret;
};

/// The Cloudflare Access service token: CF_ACCESS_CLIENT_ID / _SECRET, cf-access-client-id / -secret.
const CredentialNames& service_token_names();
/// Auto-auth's machine identity: INFISICAL_MCP_CLIENT_ID / _SECRET, infisical-mcp-client-id / -secret.
const CredentialNames& identity_names();
/// The admin machine identity of the identity commands (secret, identity): INFISICAL_CLIENT_ID /
/// _SECRET, infisical-client-id / -secret.
const CredentialNames& admin_names();

/// The folders whose changes can change the token: the parent of each `*_FILE` path and
/// `$CREDENTIALS_DIRECTORY`. A watch on the folder (not the file) sees a file that appears later,
/// an atomic rename over it, and the symlink swaps of Kubernetes secrets and systemd credentials.
std::vector<std::string> credential_watch_dirs(const Env& env,
                                               const CredentialNames& names = service_token_names());

/// Sources, first match per value wins:
///   1. `CF_ACCESS_CLIENT_ID` / `CF_ACCESS_CLIENT_SECRET`
///   2. `CF_ACCESS_CLIENT_ID_FILE` / `CF_ACCESS_CLIENT_SECRET_FILE` (path of a file holding the value)
///   3. `$CREDENTIALS_DIRECTORY/cf-access-client-id` and `.../cf-access-client-secret` (systemd LoadCredential=)
/// One trailing "\n" or "\r\n" of a file is stripped. A value containing CR, LF or NUL, or an empty
/// value, is an issue; the issue text never contains the value.
/// The same rules read auto-auth's identity with `identity_names()`.
CredentialLoad load_credentials(const Env& env, const CredentialNames& names = service_token_names());

/// A copy of the variables that name credential *files* (`*_FILE`, `$CREDENTIALS_DIRECTORY`), taken
/// at start for reloading: `--scrub-env` removes them from the process, and a value given directly
/// in the environment cannot change while the process runs, so reloads read files only.
Env credential_file_env(const Env& env);

/// The environment variable names that load_credentials reads, for both pairs (for --scrub-env).
const std::vector<std::string>& credential_env_names();

}  // namespace vp::config
