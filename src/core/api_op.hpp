#pragma once
// What an Infisical API request does, read from its method, target and (for writes) JSON body:
// the operation, and the project, environment, secret path and key names it names. The local
// policy decides on these facts (core/policy.hpp) and the audit trail records them
// (docs/guardrails.md). Pure functions, table-tested in tests/unit/core/api_op_test.cpp.

#include "core/http.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vp::core {

/// The API operations the guardrails tell apart.
enum class ApiOp : std::uint8_t {
  none,            ///< not an API call (the web UI, an unknown path)
  status,          ///< GET /api/status
  login,           ///< POST /api/v1/auth/<method>/login
  renew_token,     ///< POST /api/v1/auth/token/renew
  revoke_token,    ///< POST /api/v1/auth/token/revoke
  read_secret,     ///< GET one secret by name
  list_secrets,    ///< GET the secrets of a folder
  create_secret,   ///< POST a secret (or a batch)
  update_secret,   ///< PATCH a secret (or a batch)
  delete_secret,   ///< DELETE a secret (or a batch)
  list_folders,    ///< GET folders
  create_folder,   ///< POST a folder
  update_folder,   ///< PATCH a folder
  delete_folder,   ///< DELETE a folder
  read_identity,   ///< GET identities, their auth methods or memberships
  write_identity,  ///< anything else on identities: create, attach, grant, revoke
  read_project,    ///< GET projects (workspaces) and their environments
  write_project,   ///< anything else on projects
  other_read,      ///< another API path, read with GET or HEAD
  other_write,     ///< another API path, any other method
};

/// Every ApiOp, in declaration order (docs, `operations = […]` in a policy file).
inline constexpr ApiOp all_api_ops[] = {
    ApiOp::none,          ApiOp::status,        ApiOp::login,         ApiOp::renew_token,
    ApiOp::revoke_token,  ApiOp::read_secret,   ApiOp::list_secrets,  ApiOp::create_secret,
    ApiOp::update_secret, ApiOp::delete_secret, ApiOp::list_folders,  ApiOp::create_folder,
    ApiOp::update_folder, ApiOp::delete_folder, ApiOp::read_identity, ApiOp::write_identity,
    ApiOp::read_project,  ApiOp::write_project, ApiOp::other_read,    ApiOp::other_write,
};

/// The stable name used in policy files, audit lines and messages: "read-secret", "list-secrets"…
std::string_view op_name(ApiOp op) noexcept;
/// The ApiOp named `name`, or ApiOp::none with `found` false.
ApiOp op_from_name(std::string_view name, bool& found) noexcept;
/// A secret, folder or identity is touched: the audit trail records the request.
bool op_audited(ApiOp op) noexcept;
/// The operation carries its facts in a JSON body (writes of secrets and folders).
bool op_has_body_facts(ApiOp op) noexcept;

/// What one request does, as far as its target (and body, once read) tell.
struct ApiCall {
  ApiOp op = ApiOp::none;
  std::string path;         ///< the decoded path, without the query ("" when the target is not origin-form)
  std::string project;      ///< workspaceId / projectId / workspaceSlug / projectSlug
  std::string environment;  ///< environment (slug)
  std::string secret_path;  ///< secretPath / path / directory, as "/a/b" (no trailing '/'); "/" at the root
  std::vector<std::string> keys;  ///< the secret names the request names
  bool recursive = false;   ///< a list with recursive=true reaches every folder below secret_path
  bool body_read = false;   ///< add_body_facts() has run
  std::string problem;      ///< why the target could not be read (an ambiguous path); "" when fine
};

/// Whether the audit trail must classify `target` (cheap, no allocation): false for a plain path
/// outside /api/ and for the vault's health endpoint (`/api/status`, which probes call often and
/// which reads nothing); true for anything under /api/ and for a path that could be read another way
/// (an escape, '\\', '//', a dot segment).
bool may_be_audited(std::string_view target) noexcept;

/// The facts of a request from its method and target. A path that could be read two ways
/// (dot segments, an encoded '/', '\' or NUL, a malformed %-escape) sets `problem`.
ApiCall classify_api(http::verb method, std::string_view target);

/// Adds the facts a write carries in its JSON body: project, environment, secret path, and for a
/// batch the secretKey of each item. Its values replace the target's: the body is what the vault
/// acts on. A body that is not a JSON object adds nothing.
void add_body_facts(ApiCall& call, std::string_view body);

/// "/a/b/" → "/a/b", "" → "/", "a" → "/a": the vault's own normalisation of a secret path.
std::string normal_secret_path(std::string_view path);

}  // namespace vp::core
