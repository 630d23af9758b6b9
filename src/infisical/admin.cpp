#include "infisical/admin.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace vp::infisical {
namespace {

using json = nlohmann::json;
using detail::AnyObject;
using detail::str;
using detail::with_token;

/// {"secret": {"secretKey", "version", ...}}: the value, if any, is wiped and dropped.
struct SecretMeta {
  std::string key;
  std::int64_t version = 0;
  static std::optional<SecretMeta> decode(json& j) {
    if (!j.is_object() || !j.contains("secret") || !j["secret"].is_object()) return std::nullopt;
    auto& s = j["secret"];
    if (auto v = s.find("secretValue"); v != s.end() && v->is_string()) core::wipe(v->get_ref<std::string&>());
    SecretMeta m{str(s, "secretKey"), 0};
    if (auto v = s.find("version"); v != s.end() && v->is_number_integer()) m.version = v->get<std::int64_t>();
    return m;
  }
};

std::string secret_target(const std::string& key) { return "/api/v3/secrets/raw/" + percent_encode(key); }

json secret_body(const SecretPlace& place) {
  return json{{"workspaceId", place.project_id}, {"environment", place.environment}, {"secretPath", place.path}};
}

}  // namespace

std::string detail::str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Params detail::with_token(const core::Secret& token) {
  Params p;
  p.bearer = &token;
  return p;
}

std::string normal_path(std::string_view path) {
  std::string out;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    auto end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    if (end > i) out += "/" + std::string(path.substr(i, end - i));
    i = end;
  }
  return out.empty() ? "/" : out;
}

Outcome outcome_of(const Reply& reply, const std::optional<ApiError>& error, bool decoded, std::string_view what) {
  Outcome o;
  o.status = reply.ok() ? reply.status : 0;
  if (error) o.api_error = error->error;
  if (!reply.ok()) {
    o.problem = fmt::format("{} failed: {}", what, reply.error);
    return o;
  }
  if (decoded && reply.status / 100 == 2) {
    o.ok = true;
    return o;
  }
  if (reply.status / 100 == 2) {
    o.problem = fmt::format("{} answered {} with a body that is not what the API documents", what, reply.status);
    return o;
  }
  o.problem = fmt::format("{} answered {}", what, reply.status);
  if (error) o.problem += fmt::format(" {}: {}", error->error.empty() ? "error" : error->error, error->message);
  else if (auto d = core::diagnosis_name(reply.diagnosis()); !d.empty()) o.problem += fmt::format(" ({})", d);
  return o;
}

net::awaitable<Outcome> Admin::workspace_org(const std::string& project_id, std::string& org_id,
                                             clock::time_point dl) {
  auto r = co_await client_.call<AnyObject>(http::verb::get, "/api/v1/workspace/" + percent_encode(project_id),
                                            with_token(token_), dl);
  auto o = outcome_of(r.reply, r.error, r.ok(), "GET /api/v1/workspace/" + project_id);
  if (o.ok) {
    auto& b = r.value->body;
    org_id = b.contains("workspace") && b["workspace"].is_object() ? str(b["workspace"], "orgId") : "";
    if (org_id.empty()) o = {false, o.status, {}, "GET /api/v1/workspace/" + project_id + " gave no workspace.orgId"};
  }
  co_return o;
}

net::awaitable<Outcome> Admin::list_folders(const SecretPlace& place, std::vector<std::string>& names,
                                            clock::time_point dl) {
  auto p = with_token(token_);
  p.query = {{"workspaceId", place.project_id}, {"environment", place.environment}, {"path", place.path}};
  auto r = co_await client_.call<AnyObject>(http::verb::get, "/api/v1/folders", std::move(p), dl);
  auto o = outcome_of(r.reply, r.error, r.ok(), "GET /api/v1/folders (path " + place.path + ")");
  if (o.ok && r.value->body.contains("folders") && r.value->body["folders"].is_array())
    for (auto& f : r.value->body["folders"]) names.push_back(str(f, "name"));
  co_return o;
}

net::awaitable<Outcome> Admin::create_folder(const SecretPlace& parent, const std::string& name,
                                             clock::time_point dl) {
  auto p = with_token(token_);
  p.body = json{{"workspaceId", parent.project_id}, {"environment", parent.environment}, {"name", name},
                {"path", parent.path}};
  auto r = co_await client_.call<AnyObject>(http::verb::post, "/api/v1/folders", std::move(p), dl);
  co_return outcome_of(r.reply, r.error, r.ok(), "POST /api/v1/folders (" + name + " in " + parent.path + ")");
}

net::awaitable<Outcome> Admin::ensure_folders(const SecretPlace& place, std::vector<std::string>& created,
                                              clock::time_point dl) {
  SecretPlace at = place;
  at.path = "/";
  const std::string full = normal_path(place.path);
  std::size_t i = 1;
  while (i < full.size()) {
    auto end = full.find('/', i);
    if (end == std::string::npos) end = full.size();
    const std::string name = full.substr(i, end - i);
    std::vector<std::string> names;
    auto o = co_await list_folders(at, names, dl);
    if (!o.ok) co_return o;
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      o = co_await create_folder(at, name, dl);
      if (!o.ok) co_return o;
      created.push_back(full.substr(0, end));
    }
    at.path = full.substr(0, end);
    i = end + 1;
  }
  co_return Outcome{true, 200, {}, {}};
}

net::awaitable<Outcome> Admin::secret_version(const SecretPlace& place, const std::string& key, bool& exists,
                                              std::int64_t& version, clock::time_point dl) {
  auto p = with_token(token_);
  p.query = {{"workspaceId", place.project_id},
             {"environment", place.environment},
             {"secretPath", place.path},
             {"viewSecretValue", "false"}};
  auto r = co_await client_.call<SecretMeta>(http::verb::get, secret_target(key), std::move(p), dl);
  if (r.reply.ok() && r.reply.status / 100 == 2) core::wipe(r.reply.body);
  exists = r.ok();
  if (r.ok()) version = r.value->version;
  if (r.reply.ok() && r.reply.status == 404) co_return Outcome{true, 404, {}, {}};
  co_return outcome_of(r.reply, r.error, r.ok(), "GET " + secret_target(key));
}

net::awaitable<Written> Admin::write_secret(http::verb verb, const SecretPlace& place, const std::string& key,
                                            const core::Secret& value, clock::time_point dl) {
  auto p = with_token(token_);
  p.body = secret_body(place);
  (*p.body)["secretValue"] = std::string(value.reveal());
  (*p.body)["type"] = "shared";
  auto r = co_await client_.call<SecretMeta>(verb, secret_target(key), std::move(p), dl);
  if (r.reply.ok() && r.reply.status / 100 == 2) core::wipe(r.reply.body);
  const bool create = verb == http::verb::post;
  Written w{outcome_of(r.reply, r.error, r.ok(), (create ? "POST " : "PATCH ") + secret_target(key)), key, 0, create};
  if (r.ok()) w.version = r.value->version;
  co_return w;
}

net::awaitable<Written> Admin::create_secret(const SecretPlace& place, const std::string& key, const core::Secret& value,
                                             clock::time_point dl) {
  co_return co_await write_secret(http::verb::post, place, key, value, dl);
}

net::awaitable<Written> Admin::update_secret(const SecretPlace& place, const std::string& key, const core::Secret& value,
                                             clock::time_point dl) {
  co_return co_await write_secret(http::verb::patch, place, key, value, dl);
}

net::awaitable<Written> Admin::put_secret(const SecretPlace& place, const std::string& key, const core::Secret& value,
                                          clock::time_point dl) {
  bool exists = false;
  std::int64_t version = 0;
  auto o = co_await secret_version(place, key, exists, version, dl);
  if (!o.ok) co_return Written{o, key, 0, false};
  if (exists) co_return co_await update_secret(place, key, value, dl);
  co_return co_await create_secret(place, key, value, dl);
}

net::awaitable<Outcome> Admin::delete_secret(const SecretPlace& place, const std::string& key, clock::time_point dl) {
  auto p = with_token(token_);
  p.body = secret_body(place);
  (*p.body)["type"] = "shared";
  auto r = co_await client_.call<AnyObject>(http::verb::delete_, secret_target(key), std::move(p), dl);
  if (r.reply.ok() && r.reply.status / 100 == 2) core::wipe(r.reply.body);
  co_return outcome_of(r.reply, r.error, r.ok(), "DELETE " + secret_target(key));
}

}  // namespace vp::infisical
