#include "support/fake_infisical_admin.hpp"

#include "support/secrets.hpp"

#include <algorithm>

namespace vp::test {

using json = nlohmann::json;

namespace {


Response denied(const std::string& action, const std::string& subject) {
  return fake_error(403, "PermissionDenied", "You are not allowed to " + action + " on " + subject);
}

std::string normal(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p.empty() ? "/" : p;
}

/// Query parameters, percent-decoded.
std::map<std::string, std::string> query_of(const std::string& target) {
  std::map<std::string, std::string> out;
  auto q = target.find('?');
  if (q == std::string::npos) return out;
  auto decode = [](std::string_view s) {
    std::string o;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        o += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        o += s[i] == '+' ? ' ' : s[i];
      }
    }
    return o;
  };
  std::string_view rest(target);
  rest.remove_prefix(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto item = rest.substr(0, amp);
    auto eq = item.find('=');
    out[decode(item.substr(0, eq))] = eq == std::string_view::npos ? "" : decode(item.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

std::string key_of(const std::string& env, const std::string& path, const std::string& key) {
  return env + "|" + normal(path) + "|" + key;
}

}  // namespace

Response fake_reply(unsigned status, const json& body) {
  return Response::text(status, body.dump(), "application/json; charset=utf-8");
}

Response fake_error(unsigned status, std::string_view name, std::string_view message) {
  return fake_reply(status, {{"reqId", "req-fake"}, {"statusCode", status}, {"message", message}, {"error", name}});
}

bool glob_match(std::string_view glob, std::string_view path) {
  if (glob.size() >= 3 && glob.substr(glob.size() - 3) == "/**" && path == glob.substr(0, glob.size() - 3))
    return true;
  if (glob.empty()) return path.empty();
  if (glob.substr(0, 2) == "**") {
    for (std::size_t i = 0; i <= path.size(); ++i)
      if (glob_match(glob.substr(2), path.substr(i))) return true;
    return false;
  }
  if (glob[0] == '*') {
    for (std::size_t i = 0; i <= path.size(); ++i) {
      if (glob_match(glob.substr(1), path.substr(i))) return true;
      if (i < path.size() && path[i] == '/') break;
    }
    return false;
  }
  return !path.empty() && glob[0] == path[0] && glob_match(glob.substr(1), path.substr(1));
}

FakeInfisicalAdmin::FakeInfisicalAdmin(Options options) : options_(std::move(options)) {
  if (options_.admin_client_secret.empty()) options_.admin_client_secret = "admin-secret-" + random_token(16);
  for (const char* env : {"prod", "dev"}) folders_.push_back(std::string(env) + "|/");
}

FakeUpstream::Handler FakeInfisicalAdmin::handler() {
  return [this](const RecordedRequest& r) { return handle(r); };
}

std::string FakeInfisicalAdmin::next_id(const char* prefix) { return prefix + std::to_string(++counter_) + "-" + random_token(4); }

std::string FakeInfisicalAdmin::issue_token(const std::string& identity_id) {
  std::string t = "eyJfake." + random_token(20);
  tokens_[t] = Session{identity_id};
  issued_.push_back(t);
  return t;
}

Response FakeInfisicalAdmin::handle(const RecordedRequest& r) {
  const std::string path = r.target.substr(0, r.target.find('?'));
  const auto body = json::parse(r.body, nullptr, false);
  std::lock_guard lock(mutex_);
  for (auto it = fail_rules_.begin(); it != fail_rules_.end(); ++it)
    if (it->method == r.method && path.find(it->path_part) != std::string::npos) {
      if (it->skip > 0) {
        --it->skip;
        break;
      }
      unsigned status = it->status;
      fail_rules_.erase(it);
      return fake_error(status, status == 403 ? "PermissionDenied" : "InternalServerError", "injected failure");
    }
  if (r.method == "POST" && path == "/api/v1/auth/universal-auth/login") return login(body);
  if (r.method == "POST" && path == "/api/v1/auth/token/revoke") return revoke(body);
  auto auth = r.header("Authorization").value_or("");
  auto it = auth.size() > 7 ? tokens_.find(auth.substr(7)) : tokens_.end();
  if (it == tokens_.end()) return fake_error(401, "UnauthorizedError", "You are not allowed to access this resource");
  const Session who = it->second;
  if (path.rfind("/api/v3/secrets/raw/", 0) == 0) return secrets(r, path, who);
  if (path == "/api/v1/folders") return folders(r, who);
  if (!who.identity_id.empty()) return denied("read", "identity");
  if (path.rfind("/api/v1/workspace/", 0) == 0)
    return fake_reply(200, {{"workspace", {{"id", options_.project_id}, {"orgId", options_.org_id}}}});
  if (path.rfind("/api/v1/identities", 0) == 0 || path.rfind("/api/v2/organizations/", 0) == 0)
    return identities(r, path);
  if (path.rfind("/api/v1/auth/universal-auth/identities/", 0) == 0) return universal_auth(r, path);
  return project(r, path);
}

Response FakeInfisicalAdmin::login(const json& body) {
  const std::string id = body.is_object() ? body.value("clientId", "") : "";
  const std::string secret = body.is_object() ? body.value("clientSecret", "") : "";
  ++logins_[id];
  auto issued = [&](const std::string& who) {
    return fake_reply(200, {{"accessToken", issue_token(who)}, {"expiresIn", 3600}, {"accessTokenMaxTTL", 7200},
                       {"tokenType", "Bearer"}});
  };
  if (id == options_.admin_client_id) {
    if (admin_wrong_ >= options_.lockout_threshold)
      return fake_error(401, "UnauthorizedError", "This identity auth method is temporarily locked, please try again later");
    if (secret == options_.admin_client_secret) return issued("");
    ++admin_wrong_;
    return fake_error(401, "UnauthorizedError", "Invalid credentials");
  }
  for (auto& i : identities_) {
    if (!i.universal_auth || i.client_id != id) continue;
    if (i.locked)
      return fake_error(401, "UnauthorizedError", "This identity auth method is temporarily locked, please try again later");
    for (auto& s : i.secrets)
      if (!s.revoked && s.value == secret) return issued(i.id);
    if (++i.wrong_secrets >= options_.lockout_threshold) i.locked = true;
    return fake_error(401, "UnauthorizedError", "Invalid credentials");
  }
  return fake_error(401, "UnauthorizedError", "Invalid credentials");
}

Response FakeInfisicalAdmin::revoke(const json& body) {
  if (body.is_object()) tokens_.erase(body.value("accessToken", ""));
  return fake_reply(200, {{"message", "Successfully revoked access token"}});
}

bool FakeInfisicalAdmin::allowed(const Session& who, const std::string& action, const std::string& env,
                                 const std::string& path) const {
  if (who.identity_id.empty()) return true;
  for (auto& i : identities_) {
    if (i.id != who.identity_id) continue;
    for (auto& p : i.privileges)
      if (std::find(p.actions.begin(), p.actions.end(), action) != p.actions.end() && p.environment == env &&
          glob_match(p.glob, path))
        return true;
  }
  return false;
}

Response FakeInfisicalAdmin::secrets(const RecordedRequest& r, const std::string& path, const Session& who) {
  const std::string key = path.substr(std::string("/api/v3/secrets/raw/").size());
  const auto q = query_of(r.target);
  const auto b = json::parse(r.body, nullptr, false);
  auto field = [&](const char* name, const char* fallback) {
    if (r.method == "GET") return q.count(name) ? q.at(name) : std::string(fallback);
    return b.is_object() ? b.value(name, std::string(fallback)) : std::string(fallback);
  };
  const std::string env = field("environment", ""), folder = normal(field("secretPath", "/"));
  if (field("workspaceId", "") != options_.project_id) return fake_error(404, "NotFound", "Project not found");
  const std::string action = r.method == "GET" ? "read" : r.method == "POST" ? "create" : r.method == "PATCH" ? "edit" : "delete";
  if (!allowed(who, action, env, folder)) return denied(action, "secrets");
  const std::string k = key_of(env, folder, key);
  auto it = secrets_.find(k);
  auto answer = [&](const Stored& s) {
    return fake_reply(200, {{"secret", {{"secretKey", key}, {"secretValue", s.value}, {"version", s.version},
                                   {"secretPath", folder}, {"environment", env}, {"type", "shared"}}}});
  };
  if (r.method == "GET") return it == secrets_.end() ? fake_error(404, "NotFound", "Secret not found") : answer(it->second);
  if (r.method == "DELETE") {
    if (it == secrets_.end()) return fake_error(404, "NotFound", "Secret not found");
    Stored s = it->second;
    secrets_.erase(it);
    return answer(s);
  }
  if (!has_folder(env, folder)) return fake_error(404, "NotFound", "Folder with path '" + folder + "' not found");
  const std::string value = field("secretValue", "");
  if (r.method == "POST") {
    if (it != secrets_.end()) return fake_error(400, "BadRequest", "Secret already exist");
    return answer(secrets_[k] = Stored{value, 1});
  }
  if (it == secrets_.end()) return fake_error(404, "NotFound", "Secret not found");
  it->second = Stored{value, it->second.version + 1};
  return answer(it->second);
}

Response FakeInfisicalAdmin::folders(const RecordedRequest& r, const Session& who) {
  if (!who.identity_id.empty()) return denied(r.method == "GET" ? "read" : "create", "secretFolders");
  const auto q = query_of(r.target);
  const auto b = json::parse(r.body, nullptr, false);
  if (r.method == "GET") {
    const std::string env = q.count("environment") ? q.at("environment") : "";
    const std::string parent = normal(q.count("path") ? q.at("path") : "/");
    json list = json::array();
    const std::string prefix = env + "|" + (parent == "/" ? "" : parent) + "/";
    for (auto& f : folders_)
      if (f.rfind(prefix, 0) == 0 && f.size() > prefix.size() && f.find('/', prefix.size()) == std::string::npos)
        list.push_back({{"id", "fld-" + f}, {"name", f.substr(prefix.size())}});
    return fake_reply(200, {{"folders", list}});
  }
  if (!b.is_object()) return fake_error(422, "ValidationFailure", "body");
  const std::string env = b.value("environment", ""), parent = normal(b.value("path", "/")), name = b.value("name", "");
  if (!has_folder(env, parent)) return fake_error(404, "NotFound", "Folder with path '" + parent + "' not found");
  const std::string full = (parent == "/" ? "" : parent) + "/" + name;
  if (has_folder(env, full)) return fake_error(400, "BadRequest", "Folder already exists");
  folders_.push_back(env + "|" + full);
  return fake_reply(200, {{"folder", {{"id", "fld-" + full}, {"name", name}}}});
}

void FakeInfisicalAdmin::fail_next(std::string method, std::string path_part, unsigned status, unsigned skip) {
  std::lock_guard lock(mutex_);
  fail_rules_.push_back({std::move(method), std::move(path_part), status, skip});
}

void FakeInfisicalAdmin::put_secret(const std::string& env, const std::string& path, const std::string& key,
                                    const std::string& value) {
  std::lock_guard lock(mutex_);
  std::string at;
  for (std::size_t i = 1; i <= path.size(); ++i)
    if (i == path.size() || path[i] == '/') {
      at = path.substr(0, i);
      if (at.size() > 1 && std::find(folders_.begin(), folders_.end(), env + "|" + at) == folders_.end())
        folders_.push_back(env + "|" + at);
    }
  auto& s = secrets_[key_of(env, path, key)];
  s = Stored{value, s.version + 1};
}

std::optional<std::string> FakeInfisicalAdmin::secret_value(const std::string& env, const std::string& path,
                                                            const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = secrets_.find(key_of(env, path, key));
  if (it == secrets_.end()) return std::nullopt;
  return it->second.value;
}

std::int64_t FakeInfisicalAdmin::secret_version(const std::string& env, const std::string& path,
                                                const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = secrets_.find(key_of(env, path, key));
  return it == secrets_.end() ? 0 : it->second.version;
}

bool FakeInfisicalAdmin::folder_exists(const std::string& env, const std::string& path) const {
  std::lock_guard lock(mutex_);
  return has_folder(env, path);
}

bool FakeInfisicalAdmin::has_folder(const std::string& env, const std::string& path) const {
  return std::find(folders_.begin(), folders_.end(), env + "|" + normal(path)) != folders_.end();
}

std::size_t FakeInfisicalAdmin::logins(const std::string& client_id) const {
  std::lock_guard lock(mutex_);
  auto it = logins_.find(client_id);
  return it == logins_.end() ? 0 : it->second;
}

std::size_t FakeInfisicalAdmin::live_tokens() const {
  std::lock_guard lock(mutex_);
  return tokens_.size();
}

std::vector<std::string> FakeInfisicalAdmin::all_secrets() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out = issued_;
  out.push_back(options_.admin_client_secret);
  for (auto& [k, s] : secrets_)  // a client id is public: outputs may name it
    if (s.value.size() >= 8 && k.size() >= 10 && k.substr(k.size() - 10) != "_CLIENT_ID") out.push_back(s.value);
  return out;
}

}  // namespace vp::test
