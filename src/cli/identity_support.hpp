#pragma once
// Internal to the identity subcommands: where an identity's credentials are stored, and issuing a
// client secret that is stored at once (or revoked at once when it cannot be).

#include "cli/identity_cmd.hpp"
#include "infisical/admin.hpp"
#include "infisical/admin_identity.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace vp::cli {

/// The folder and the two keys of an identity's credentials.
struct CredentialPlace {
  infisical::SecretPlace place;
  std::string id_key;      ///< <PREFIX>_CLIENT_ID
  std::string secret_key;  ///< <PREFIX>_CLIENT_SECRET
};

/// A client secret issued and stored, or what went wrong and what state was left.
struct Issued {
  infisical::Outcome outcome;
  std::string secret_id;
  std::int64_t secret_version = 0;
  std::int64_t id_version = 0;
  std::optional<core::Secret> value;  ///< the new secret, when stored (for a verifying login)
  std::string state;            ///< on failure: what is left on the vault
  bool orphan_left = false;     ///< a created secret could be neither stored nor revoked
};

/// Creates the credential folders, then a client secret, then stores it and the client id. If
/// storing fails, the new secret is revoked before returning.
net::awaitable<Issued> issue_and_store(infisical::Admin& admin, infisical::IdentityAdmin& ids,
                                       const CredentialPlace& at, const std::string& identity_id,
                                       const std::string& client_id, const std::string& description,
                                       std::chrono::steady_clock::time_point dl);

/// Today as YYYY-MM-DD (UTC), for client secret descriptions.
std::string today_utc();

}  // namespace vp::cli
