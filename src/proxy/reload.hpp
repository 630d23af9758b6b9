#pragma once
// Hot reload of the service token (docs/configuration.md, "Rotating the service token"): SIGHUP
// and a watch of the credential files' folders re-read the token; a new valid value is installed
// for the next requests, and a bad one is refused while the old token stays in use.

#include "config/config.hpp"
#include "config/credentials.hpp"
#include "proxy/state.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace vp::proxy {

/// What one re-read leads to.
enum class ReloadAction {
  install,             ///< a valid token that differs from the one in use
  unchanged,           ///< the same token (same fingerprint and source)
  refused,             ///< a configured source is missing or holds a bad value: the old token stays
  nothing_configured,  ///< no file source is configured (values from the environment cannot change)
};

/// "installed", "unchanged", "refused", "nothing configured".
std::string_view reload_action_name(ReloadAction a) noexcept;

/// Pure: what to do with a fresh `load`, given the token in use (null: none yet). The message is
/// for the log and status and never holds a value: sources, fingerprints and the loader's issues.
struct ReloadDecision {
  ReloadAction action = ReloadAction::unchanged;
  std::string message;
};
/// `noun` names the pair in messages: service_token_noun or identity_noun.
inline constexpr std::string_view service_token_noun = "service token";
inline constexpr std::string_view identity_noun = "identity credentials";
ReloadDecision decide_reload(const config::CredentialLoad& load, const core::ServiceToken* current,
                             std::string_view noun = service_token_noun);

/// Re-reads the token from its file sources and installs it when it changed. Not thread-safe:
/// call it from one thread (the server's control thread).
class CredentialReloader {
 public:
  /// `file_env` names the files (config::credential_file_env, taken at start).
  CredentialReloader(config::Env file_env, Shared& shared);

  /// Re-reads now, installs or refuses, logs the outcome and records it for status. With auto-auth
  /// on, the identity's credentials too (the decision returned is the service token's).
  ReloadDecision reload(std::string_view trigger);
  /// The folders to watch (config::credential_watch_dirs).
  const std::vector<std::string>& watch_dirs() const noexcept { return dirs_; }

 private:
  ReloadDecision reload_pair(std::string_view trigger, const config::CredentialNames& names, core::CredentialStore& store,
                             std::string_view noun);

  config::Env env_;
  Shared& shared_;
  std::vector<std::string> dirs_;
};

}  // namespace vp::proxy
