#pragma once
// An in-process Infisical with the admin side of the API (infisical-api.md §2), for FakeUpstream:
// universal-auth login for the admin and for every identity it holds (lockout after 3 wrong secrets),
// token revoke, folders and secrets (v3 raw) with versions, identities, universal-auth attach,
// client secrets shown once, project memberships and additional privileges whose `$glob` conditions
// are enforced on every secret call (RBAC: an identity may do only what a privilege grants; the
// admin may do everything). One-shot failure injection on any call; every secret that passed
// through is listed so that tests can grep every output for it.
//
// Endpoints not in infisical-api.md are modelled on Infisical's routers and documented in
// docs/identities.md ("API calls"): GET /api/v2/organizations/{org}/identity-memberships,
// GET /api/v1/auth/universal-auth/identities/{id}, GET /api/v2/workspace/{p}/identity-memberships/{id},
// GET /api/v2/identity-project-additional-privilege/slug/{slug}.

#include "support/fake_upstream.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace vp::test {

class FakeInfisicalAdmin {
 public:
  using clock = std::chrono::steady_clock;

  struct Options {
    std::string admin_client_id = "admin-client-id-0001";
    std::string admin_client_secret;  ///< default: random
    std::string org_id = "org-0001";
    std::string project_id = "proj-0001";
    unsigned lockout_threshold = 3;
  };

  struct ClientSecret {
    std::string id;
    std::string value;
    std::string created_at;  ///< ISO 8601
    bool revoked = false;
  };
  struct Privilege {
    std::string slug;
    std::vector<std::string> actions;
    std::string environment;
    std::string glob;
  };
  struct Identity {
    std::string id;
    std::string name;
    std::vector<std::pair<std::string, std::string>> metadata;
    bool universal_auth = false;
    std::string client_id;
    std::int64_t ttl = 0, max_ttl = 0;
    std::vector<ClientSecret> secrets;
    bool member = false;
    std::string member_role;
    std::vector<Privilege> privileges;
    unsigned wrong_secrets = 0;
    bool locked = false;
  };

  explicit FakeInfisicalAdmin(Options options);
  FakeInfisicalAdmin() : FakeInfisicalAdmin(Options{}) {}

  FakeUpstream::Handler handler();
  Response handle(const RecordedRequest& r);

  const Options& options() const noexcept { return options_; }

  // Seeding and inspection.
  void put_secret(const std::string& env, const std::string& path, const std::string& key, const std::string& value);
  std::optional<std::string> secret_value(const std::string& env, const std::string& path, const std::string& key) const;
  std::int64_t secret_version(const std::string& env, const std::string& path, const std::string& key) const;
  bool folder_exists(const std::string& env, const std::string& path) const;
  /// Adds an identity as someone else would (no metadata unless given); returns its id.
  std::string add_identity(const std::string& name, std::vector<std::pair<std::string, std::string>> metadata = {});
  /// Attaches universal auth and one client secret to an identity; returns the secret.
  std::string add_client_secret(const std::string& identity_id, const std::string& created_at = "2026-01-01T00:00:00Z");
  void add_privilege(const std::string& identity_id, Privilege p);
  std::optional<Identity> identity(const std::string& name) const;
  std::size_t identity_count(const std::string& name) const;
  std::size_t logins(const std::string& client_id) const;  ///< attempts, right or wrong
  std::size_t live_tokens() const;                          ///< issued and not revoked

  /// The next request whose method is `method` and whose path contains `path_part` gets `status`
  /// (an Infisical error body) and changes nothing; `skip` matching requests pass first. Rules are
  /// used once, in order of addition.
  void fail_next(std::string method, std::string path_part, unsigned status = 500, unsigned skip = 0);

  /// Every secret that went through: the admin secret, every token, every client secret and every
  /// stored secret value.
  std::vector<std::string> all_secrets() const;

 private:
  struct Stored {
    std::string value;
    std::int64_t version = 0;
  };
  struct Session {
    std::string identity_id;  ///< "" for the admin
  };
  struct FailRule {
    std::string method, path_part;
    unsigned status;
    unsigned skip;
  };

  Response login(const nlohmann::json& body);
  Response revoke(const nlohmann::json& body);
  Response secrets(const RecordedRequest& r, const std::string& path, const Session& who);
  Response folders(const RecordedRequest& r, const Session& who);
  Response identities(const RecordedRequest& r, const std::string& path);
  Response universal_auth(const RecordedRequest& r, const std::string& path);
  Response project(const RecordedRequest& r, const std::string& path);
  bool allowed(const Session& who, const std::string& action, const std::string& env, const std::string& path) const;
  Identity* find_identity_by_id(const std::string& id);
  bool has_folder(const std::string& env, const std::string& path) const;
  std::string next_id(const char* prefix);
  std::string issue_token(const std::string& identity_id);

  Options options_;
  mutable std::mutex mutex_;
  std::map<std::string, Stored> secrets_;  ///< "env|path|key"
  std::vector<std::string> folders_;       ///< "env|path"
  std::vector<Identity> identities_;
  std::map<std::string, Session> tokens_;
  std::vector<std::string> issued_;        ///< tokens and client secrets ever issued
  std::vector<FailRule> fail_rules_;
  std::map<std::string, std::size_t> logins_;
  unsigned admin_wrong_ = 0;
  std::size_t counter_ = 0;
};

/// An Infisical JSON answer, and its error envelope {reqId, statusCode, message, error}.
Response fake_reply(unsigned status, const nlohmann::json& body);
Response fake_error(unsigned status, std::string_view name, std::string_view message);

/// picomatch-like glob over secret paths: `**` spans folders, `*` stays within one; `/a/**` also
/// matches `/a`.
bool glob_match(std::string_view glob, std::string_view path);

}  // namespace vp::test
