#pragma once
// Reads the service token from its sources. Values never come from argv.

#include "config/config.hpp"
#include "core/credentials.hpp"

#include <optional>
#include <vector>

namespace vp::config {

/// Outcome of reading the service token.
struct CredentialLoad {
  std::optional<ServiceToken> token;   ///< set when both values were found and valid
  std::vector<Issue> issues;           ///< hard errors (unreadable file, CR/LF/NUL in a value, only one half set)
  bool none_configured = false;        ///< no source named either value: warn and serve local endpoints only
};

/// Sources, first match per value wins:
///   1. `CF_ACCESS_CLIENT_ID` / `CF_ACCESS_CLIENT_SECRET`
///   2. `CF_ACCESS_CLIENT_ID_FILE` / `CF_ACCESS_CLIENT_SECRET_FILE` (path of a file holding the value)
///   3. `$CREDENTIALS_DIRECTORY/cf-access-client-id` and `.../cf-access-client-secret` (systemd LoadCredential=)
/// One trailing "\n" or "\r\n" of a file is stripped. A value containing CR, LF or NUL, or an empty
/// value, is an issue; the issue text never contains the value.
CredentialLoad load_credentials(const Env& env);

/// The environment variable names that load_credentials reads (for --scrub-env).
const std::vector<std::string>& credential_env_names();

}  // namespace vp::config
