#include "core/api_op.hpp"

#include <boost/container/small_vector.hpp>
#include <boost/url/parse.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <span>

namespace vp::core {
namespace {

constexpr std::array<std::string_view, std::size(all_api_ops)> op_names = {
    "none",          "status",        "login",          "renew-token",    "revoke-token",
    "read-secret",   "list-secrets",  "create-secret",  "update-secret",  "delete-secret",
    "list-folders",  "create-folder", "update-folder",  "delete-folder",  "read-identity",
    "write-identity", "read-project", "write-project",  "other-read",     "other-write",
};

// A batch names its keys in the body; an audit line keeps a bounded number of them.
constexpr std::size_t max_keys = 200;
constexpr std::size_t max_key_bytes = 512;

bool is_read(http::verb m) { return m == http::verb::get || m == http::verb::head; }

using Segments = std::span<const std::string>;

// GET/HEAD → read, POST → create, PATCH/PUT → update, DELETE → delete, anything else → other.
ApiOp by_method(http::verb m, ApiOp read, ApiOp create, ApiOp update, ApiOp del) {
  if (is_read(m)) return read;
  if (m == http::verb::post) return create;
  if (m == http::verb::patch || m == http::verb::put) return update;
  if (m == http::verb::delete_) return del;
  return ApiOp::other_write;
}

ApiOp read_or_write(http::verb m, ApiOp read, ApiOp write) { return is_read(m) ? read : write; }

// /api/v1/auth/…: the token endpoints, the logins of every auth method, and the identity
// configuration endpoints (/auth/universal-auth/identities/{id}/client-secrets, …).
ApiOp classify_auth(http::verb m, Segments r) {
  const bool post = m == http::verb::post;
  if (r.size() == 3 && r[1] == "token" && r[2] == "renew" && post) return ApiOp::renew_token;
  if (r.size() == 3 && r[1] == "token" && r[2] == "revoke" && post) return ApiOp::revoke_token;
  if (r.size() == 3 && r[2] == "login" && post) return ApiOp::login;
  if (std::find(r.begin(), r.end(), "identities") != r.end())
    return read_or_write(m, ApiOp::read_identity, ApiOp::write_identity);
  return read_or_write(m, ApiOp::other_read, ApiOp::other_write);
}

// /api/v3/secrets/raw[/{name}], /api/v3/secrets/batch/raw, /api/v4/secrets[/{name}],
// /api/v4/secrets/batch, and the older /api/v3/secrets[/{name}].
ApiOp classify_secrets(http::verb m, Segments r, ApiCall& call) {
  r = r.subspan(1);
  bool batch = false;
  if (!r.empty() && r[0] == "batch") {
    batch = true;
    r = r.subspan(1);
  }
  if (!r.empty() && r[0] == "raw") r = r.subspan(1);
  if (r.size() > 1 || (batch && !r.empty())) return read_or_write(m, ApiOp::other_read, ApiOp::other_write);
  const bool named = r.size() == 1;
  if (named) call.keys.push_back(r[0]);
  if (call.secret_path.empty()) call.secret_path = "/";
  return by_method(m, named ? ApiOp::read_secret : ApiOp::list_secrets, ApiOp::create_secret, ApiOp::update_secret,
                   ApiOp::delete_secret);
}

ApiOp classify_segments(http::verb m, Segments s, ApiCall& call) {
  if (s.empty() || s[0] != "api") return ApiOp::none;
  if (s.size() == 2 && s[1] == "status") return read_or_write(m, ApiOp::status, ApiOp::other_write);
  if (s.size() < 3) return read_or_write(m, ApiOp::other_read, ApiOp::other_write);
  const Segments r = s.subspan(2);  // after /api/<version>
  if (r[0] == "auth") return classify_auth(m, r);
  if (r[0] == "secrets") return classify_secrets(m, r, call);
  if (r[0] == "folders") {
    if (call.secret_path.empty()) call.secret_path = "/";
    return by_method(m, ApiOp::list_folders, ApiOp::create_folder, ApiOp::update_folder, ApiOp::delete_folder);
  }
  for (const auto& seg : r)
    if (seg.starts_with("identity") || seg.starts_with("identities"))
      return read_or_write(m, ApiOp::read_identity, ApiOp::write_identity);
  if (r[0] == "workspace" || r[0] == "workspaces" || r[0] == "projects" || r[0] == "project")
    return read_or_write(m, ApiOp::read_project, ApiOp::write_project);
  return read_or_write(m, ApiOp::other_read, ApiOp::other_write);
}

// A path the vault (or anything between) could read another way than we do.
std::string path_problem(std::string_view encoded, std::span<const std::string> segments) {
  for (std::size_t i = 0; i + 2 < encoded.size(); ++i) {
    if (encoded[i] != '%') continue;
    const char a = encoded[i + 1];
    const char b = static_cast<char>(encoded[i + 2] | 0x20);
    if ((a == '2' && b == 'f') || (a == '5' && b == 'c') || (a == '0' && b == '0'))
      return "its path holds an encoded '/', '\\' or NUL";
  }
  if (encoded.find('\\') != std::string_view::npos) return "its path holds a '\\'";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (segments[i] == "." || segments[i] == "..") return "its path holds a '.' or '..' segment";
    if (segments[i].empty() && i + 1 < segments.size()) return "its path holds an empty segment ('//')";
  }
  return {};
}

// The query parameters the vault reads the project, environment and folder from.
void take_param(ApiCall& call, std::string_view key, std::string_view value) {
  if (key == "workspaceId" || key == "projectId" || key == "workspaceSlug" || key == "projectSlug")
    call.project = value;
  else if (key == "environment")
    call.environment = value;
  else if (key == "secretPath" || key == "path" || key == "directory")
    call.secret_path = normal_secret_path(value);
  else if (key == "recursive")
    call.recursive = value == "true";
}

void add_key(ApiCall& call, const std::string& key) {
  if (call.keys.size() < max_keys && key.size() <= max_key_bytes &&
      std::find(call.keys.begin(), call.keys.end(), key) == call.keys.end())
    call.keys.push_back(key);
}

}  // namespace

std::string_view op_name(ApiOp op) noexcept { return op_names[static_cast<std::size_t>(op)]; }

ApiOp op_from_name(std::string_view name, bool& found) noexcept {
  for (std::size_t i = 0; i < op_names.size(); ++i) {
    if (op_names[i] == name) {
      found = true;
      return all_api_ops[i];
    }
  }
  found = false;
  return ApiOp::none;
}

bool op_audited(ApiOp op) noexcept {
  switch (op) {
    case ApiOp::read_secret: case ApiOp::list_secrets: case ApiOp::create_secret:
    case ApiOp::update_secret: case ApiOp::delete_secret: case ApiOp::list_folders:
    case ApiOp::create_folder: case ApiOp::update_folder: case ApiOp::delete_folder:
    case ApiOp::read_identity: case ApiOp::write_identity: case ApiOp::login:
    case ApiOp::renew_token: case ApiOp::revoke_token:
      return true;
    default:
      return false;
  }
}

bool op_has_body_facts(ApiOp op) noexcept {
  switch (op) {
    case ApiOp::create_secret: case ApiOp::update_secret: case ApiOp::delete_secret:
    case ApiOp::create_folder: case ApiOp::update_folder: case ApiOp::delete_folder:
      return true;
    default:
      return false;
  }
}

std::string normal_secret_path(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path.empty() || path == "/") return "/";
  return path.front() == '/' ? std::string(path) : "/" + std::string(path);
}

bool may_be_audited(std::string_view target) noexcept {
  const auto path = target.substr(0, target.find('?'));
  if (path == "/api/status") return false;
  if (path.starts_with("/api/")) return true;
  // A plain path outside /api/ cannot name a secret; one that could be read another way (an
  // escape, '\\', '//', a dot segment) is classified, so that an encoding cannot slip past the trail.
  return path.find_first_of("%\\") != std::string_view::npos || path.find("//") != std::string_view::npos ||
         path.find("/.") != std::string_view::npos;
}

ApiCall classify_api(http::verb method, std::string_view target) {
  ApiCall call;
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) {
    call.problem = "its target is not a path with an optional query";
    return call;
  }
  const auto& url = *parsed;
  // Up to 8 segments on the stack: an API path has 3 to 6, and this runs on every API request.
  boost::container::small_vector<std::string, 8> segments;
  for (auto seg : url.segments()) segments.push_back(std::string(seg));
  call.problem = path_problem(url.encoded_path(), segments);
  if (!call.problem.empty()) return call;
  if (!segments.empty() && segments.back().empty()) segments.pop_back();  // a trailing '/'
  call.path = std::string(url.path());
  for (auto param : url.params()) take_param(call, param.key, param.has_value ? std::string_view(param.value) : "");
  call.op = classify_segments(method, segments, call);
  return call;
}

void add_body_facts(ApiCall& call, std::string_view body) {
  call.body_read = true;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return;
  for (const auto& [key, value] : j.items()) {
    if (value.is_string()) take_param(call, key, value.get_ref<const std::string&>());
  }
  auto items = j.find("secrets");
  if (items == j.end() || !items->is_array()) return;
  for (const auto& item : *items) {
    if (!item.is_object()) continue;
    auto k = item.find("secretKey");
    if (k != item.end() && k->is_string()) add_key(call, k->get_ref<const std::string&>());
  }
}

}  // namespace vp::core
