#pragma once
// The admin side of the Infisical API (infisical-api.md §2), typed over Client::call<T>(): the
// project's organisation, folders and secret writes here; identities, universal auth, client
// secrets, memberships and privileges in admin_identity.hpp. Every call takes the admin's access
// token; none of them logs in. A secret's value travels as Secret and is wiped from the reply.

#include "infisical/client.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vp::infisical {

/// Where a secret lives.
struct SecretPlace {
  std::string project_id;
  std::string environment;
  std::string path = "/";  ///< folder path, "/" or "/a/b" (no trailing '/')
};

/// The outcome of one admin call: `ok`, or what went wrong, already worded ("POST /api/v1/folders
/// answered 403 PermissionDenied: You are not allowed to create on secretFolders").
struct Outcome {
  bool ok = false;
  unsigned status = 0;     ///< 0 when no answer came
  std::string api_error;   ///< Infisical's `error` field, if any
  std::string problem;     ///< set when !ok; never holds a secret
};

/// A secret written: its key and version (never its value).
struct Written {
  Outcome outcome;
  std::string key;
  std::int64_t version = 0;
  bool created = false;  ///< a new secret (false: a new version of an existing one)
};

/// The admin calls. Each one is a single request; none retries (several are not idempotent).
class Admin {
 public:
  Admin(Client& client, const core::Secret& token) : client_(client), token_(token) {}

  net::awaitable<Outcome> workspace_org(const std::string& project_id, std::string& org_id, clock::time_point dl);
  /// The names of the folders directly under `place.path`.
  net::awaitable<Outcome> list_folders(const SecretPlace& place, std::vector<std::string>& names,
                                       clock::time_point dl);
  net::awaitable<Outcome> create_folder(const SecretPlace& parent, const std::string& name, clock::time_point dl);
  /// Creates the folders of `place.path` that do not exist; `created` lists the paths made.
  net::awaitable<Outcome> ensure_folders(const SecretPlace& place, std::vector<std::string>& created,
                                         clock::time_point dl);

  /// The secret's version when it exists (404: `exists` false, outcome ok).
  net::awaitable<Outcome> secret_version(const SecretPlace& place, const std::string& key, bool& exists,
                                         std::int64_t& version, clock::time_point dl);
  net::awaitable<Written> create_secret(const SecretPlace& place, const std::string& key, const core::Secret& value,
                                        clock::time_point dl);
  net::awaitable<Written> update_secret(const SecretPlace& place, const std::string& key, const core::Secret& value,
                                        clock::time_point dl);
  /// Creates the secret, or updates it when it exists.
  net::awaitable<Written> put_secret(const SecretPlace& place, const std::string& key, const core::Secret& value,
                                     clock::time_point dl);
  net::awaitable<Outcome> delete_secret(const SecretPlace& place, const std::string& key, clock::time_point dl);

 private:
  net::awaitable<Written> write_secret(http::verb verb, const SecretPlace& place, const std::string& key,
                                       const core::Secret& value, clock::time_point dl);

  Client& client_;
  const core::Secret& token_;
};

namespace detail {
/// Any JSON object: for calls whose answer is only checked for its status, or read field by field.
struct AnyObject {
  nlohmann::json body;
  static std::optional<AnyObject> decode(nlohmann::json& j) {
    if (!j.is_object()) return std::nullopt;
    return AnyObject{std::move(j)};
  }
};
/// A string field, or "".
std::string str(const nlohmann::json& j, const char* key);
/// Params carrying `Authorization: Bearer <token>`.
Params with_token(const core::Secret& token);
}  // namespace detail

/// "/" for "", "/a/b" for "a/b/" or "/a//b/": the form the API compares.
std::string normal_path(std::string_view path);

/// Words a failed call: "<what> answered <status> <error>: <message>" or "<what> failed: <reason>".
Outcome outcome_of(const Reply& reply, const std::optional<ApiError>& error, bool decoded, std::string_view what);

}  // namespace vp::infisical
