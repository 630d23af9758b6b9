#pragma once
// The identity side of the Infisical admin API (infisical-api.md §2 and docs/identities.md, "API
// calls"): identities of the organisation, universal auth, client secrets (a new one is shown once
// and moves straight into a Secret), project memberships and additional privileges.

#include "infisical/admin.hpp"

namespace vp::infisical {

/// A client secret just created: shown once by the API.
struct NewClientSecret {
  Outcome outcome;
  std::optional<core::Secret> secret;
  std::string id;  ///< clientSecretData.id
};

/// A client secret's metadata (never its value).
struct ClientSecretInfo {
  std::string id;
  std::string prefix;
  std::string description;
  std::string created_at;  ///< ISO 8601 as the API sends it
  bool revoked = false;
};

/// One identity of the organisation.
struct IdentityInfo {
  std::string id;
  std::string name;
  std::vector<std::pair<std::string, std::string>> metadata;  ///< key, value
};

/// The additional privilege's one rule: action read on secrets, for an environment and a glob.
struct ReadPrivilege {
  std::string slug;
  std::string environment;
  std::string glob;
  std::vector<std::string> actions;  ///< as found on the vault (decoded privileges only)
};

/// The calls. Each is one request, never retried.
class IdentityAdmin {
 public:
  IdentityAdmin(Client& client, const core::Secret& token) : client_(client), token_(token) {}


  net::awaitable<Outcome> list_identities(const std::string& org_id, std::vector<IdentityInfo>& out,
                                          clock::time_point dl);
  net::awaitable<Outcome> create_identity(const std::string& org_id, const std::string& name,
                                          const std::vector<std::pair<std::string, std::string>>& metadata,
                                          std::string& id, clock::time_point dl);
  /// The universal-auth client id; 404/400 (not attached) gives `attached` false, outcome ok.
  net::awaitable<Outcome> universal_auth(const std::string& identity_id, bool& attached, std::string& client_id,
                                         clock::time_point dl);
  net::awaitable<Outcome> attach_universal_auth(const std::string& identity_id, std::int64_t ttl,
                                                std::int64_t max_ttl, std::string& client_id, clock::time_point dl);
  net::awaitable<NewClientSecret> create_client_secret(const std::string& identity_id, const std::string& description,
                                                       clock::time_point dl);
  net::awaitable<Outcome> list_client_secrets(const std::string& identity_id, std::vector<ClientSecretInfo>& out,
                                              clock::time_point dl);
  net::awaitable<Outcome> revoke_client_secret(const std::string& identity_id, const std::string& secret_id,
                                               clock::time_point dl);
  /// 404 gives `member` false, outcome ok.
  net::awaitable<Outcome> project_membership(const std::string& project_id, const std::string& identity_id,
                                             bool& member, clock::time_point dl);
  net::awaitable<Outcome> add_project_membership(const std::string& project_id, const std::string& identity_id,
                                                 clock::time_point dl);
  /// The privilege with `slug`; 404 gives nullopt, outcome ok.
  net::awaitable<Outcome> privilege(const std::string& project_id, const std::string& identity_id,
                                    const std::string& slug, std::optional<ReadPrivilege>& out, clock::time_point dl);
  net::awaitable<Outcome> create_read_privilege(const std::string& project_id, const std::string& identity_id,
                                                const ReadPrivilege& p, clock::time_point dl);

 private:
  Client& client_;
  const core::Secret& token_;
};

}  // namespace vp::infisical
