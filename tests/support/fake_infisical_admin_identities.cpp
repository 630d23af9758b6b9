// FakeInfisicalAdmin's identity endpoints: identities, universal auth, client secrets (shown once),
// project memberships and additional privileges.

#include "support/fake_infisical_admin.hpp"

#include "support/secrets.hpp"

#include <algorithm>

namespace vp::test {

using json = nlohmann::json;

namespace {


/// The path's segments after `prefix`: "/a/b/c" with prefix "/a/" gives {"b", "c"}.
std::vector<std::string> segments(const std::string& path, const std::string& prefix) {
  std::vector<std::string> out;
  std::size_t i = prefix.size();
  while (i <= path.size()) {
    auto end = path.find('/', i);
    if (end == std::string::npos) end = path.size();
    out.push_back(path.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

json secret_data(const FakeInfisicalAdmin::ClientSecret& s) {
  return {{"id", s.id}, {"createdAt", s.created_at}, {"clientSecretPrefix", s.value.substr(0, 4)},
          {"description", ""}, {"isClientSecretRevoked", s.revoked}};
}

std::string now_iso() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

FakeInfisicalAdmin::Identity* FakeInfisicalAdmin::find_identity_by_id(const std::string& id) {
  for (auto& i : identities_)
    if (i.id == id) return &i;
  return nullptr;
}

Response FakeInfisicalAdmin::identities(const RecordedRequest& r, const std::string& path) {
  const auto b = json::parse(r.body, nullptr, false);
  if (r.method == "GET" && path == "/api/v2/organizations/" + options_.org_id + "/identity-memberships") {
    json list = json::array();
    for (auto& i : identities_) {
      json md = json::array();
      for (auto& [k, v] : i.metadata) md.push_back({{"key", k}, {"value", v}});
      list.push_back({{"identity", {{"id", i.id}, {"name", i.name}, {"metadata", md}}}});
    }
    return fake_reply(200, {{"identityMemberships", list}});
  }
  if (r.method == "POST" && path == "/api/v1/identities" && b.is_object()) {
    if (b.value("organizationId", "") != options_.org_id) return fake_error(404, "NotFound", "Organization not found");
    Identity i;
    i.id = next_id("ident-");
    i.name = b.value("name", "");
    if (b.contains("metadata") && b["metadata"].is_array())
      for (auto& m : b["metadata"]) i.metadata.emplace_back(m.value("key", ""), m.value("value", ""));
    identities_.push_back(i);
    return fake_reply(200, {{"identity", {{"id", i.id}, {"name", i.name}, {"orgId", options_.org_id}}}});
  }
  return fake_error(404, "Not Found", "Route " + r.method + ":" + path + " not found");
}

Response FakeInfisicalAdmin::universal_auth(const RecordedRequest& r, const std::string& path) {
  auto seg = segments(path, "/api/v1/auth/universal-auth/identities/");
  Identity* i = seg.empty() ? nullptr : find_identity_by_id(seg[0]);
  if (i == nullptr) return fake_error(404, "NotFound", "Identity not found");
  const auto b = json::parse(r.body, nullptr, false);
  if (seg.size() == 1 && r.method == "GET") {
    if (!i->universal_auth) return fake_error(404, "NotFound", "Failed to find universal auth");
    return fake_reply(200, {{"identityUniversalAuth", {{"clientId", i->client_id}, {"accessTokenTTL", i->ttl}}}});
  }
  if (seg.size() == 1 && r.method == "POST") {
    if (i->universal_auth) return fake_error(400, "BadRequest", "Failed to add universal auth: already configured");
    i->ttl = b.is_object() ? b.value("accessTokenTTL", 2592000) : 2592000;
    i->max_ttl = b.is_object() ? b.value("accessTokenMaxTTL", 2592000) : 2592000;
    if (i->ttl > i->max_ttl) return fake_error(422, "ValidationFailure", "accessTokenTTL above accessTokenMaxTTL");
    i->universal_auth = true;
    i->client_id = "ua-" + random_token(8);
    return fake_reply(200, {{"identityUniversalAuth", {{"clientId", i->client_id}, {"identityId", i->id}}}});
  }
  if (!i->universal_auth || seg.size() < 2 || seg[1] != "client-secrets") return fake_error(400, "BadRequest", "no UA");
  if (seg.size() == 2 && r.method == "POST") {
    ClientSecret s{next_id("cs-"), "cs." + random_token(24), now_iso(), false};
    i->secrets.push_back(s);
    issued_.push_back(s.value);
    return fake_reply(200, {{"clientSecret", s.value}, {"clientSecretData", secret_data(s)}});
  }
  if (seg.size() == 2 && r.method == "GET") {
    json list = json::array();
    for (auto& s : i->secrets) list.push_back(secret_data(s));
    return fake_reply(200, {{"clientSecretData", list}});
  }
  if (seg.size() == 4 && seg[3] == "revoke" && r.method == "POST")
    for (auto& s : i->secrets)
      if (s.id == seg[2]) {
        s.revoked = true;
        return fake_reply(200, {{"clientSecretData", secret_data(s)}});
      }
  return fake_error(404, "NotFound", "Client secret not found");
}

Response FakeInfisicalAdmin::project(const RecordedRequest& r, const std::string& path) {
  const auto b = json::parse(r.body, nullptr, false);
  const std::string members = "/api/v2/workspace/" + options_.project_id + "/identity-memberships/";
  if (path.rfind(members, 0) == 0) {
    Identity* i = find_identity_by_id(path.substr(members.size()));
    if (i == nullptr) return fake_error(404, "NotFound", "Identity not found");
    if (r.method == "GET")
      return i->member ? fake_reply(200, {{"identityMembership", {{"identityId", i->id}, {"role", i->member_role}}}})
                       : fake_error(404, "NotFound", "Identity membership not found");
    if (i->member) return fake_error(400, "BadRequest", "Identity already exists in project");
    i->member = true;
    i->member_role = b.is_object() ? b.value("role", "no-access") : "no-access";
    return fake_reply(200, {{"identityMembership", {{"identityId", i->id}}}});
  }
  const std::string privileges = "/api/v2/identity-project-additional-privilege";
  const auto q = r.target.find("identityId=");
  if (r.method == "GET" && path.rfind(privileges + "/slug/", 0) == 0 && q != std::string::npos) {
    std::string id = r.target.substr(q + 11, r.target.find('&', q) - q - 11);
    Identity* i = find_identity_by_id(id);
    const std::string slug = path.substr(privileges.size() + 6);
    if (i != nullptr)
      for (auto& p : i->privileges)
        if (p.slug == slug)
          return fake_reply(200, {{"privilege", {{"slug", p.slug}, {"permissions", json::array({{
              {"subject", "secrets"}, {"action", p.actions},
              {"conditions", {{"environment", p.environment}, {"secretPath", {{"$glob", p.glob}}}}}}})}}}});
    return fake_error(404, "NotFound", "Privilege not found");
  }
  if (r.method == "POST" && path == privileges && b.is_object()) {
    Identity* i = find_identity_by_id(b.value("identityId", ""));
    if (i == nullptr || !i->member) return fake_error(404, "NotFound", "Identity membership not found");
    const json& perm = b["permissions"].at(0);
    Privilege p{b.value("slug", ""), perm["action"].get<std::vector<std::string>>(),
                perm["conditions"].value("environment", ""), perm["conditions"]["secretPath"].value("$glob", "")};
    for (auto& x : i->privileges)
      if (x.slug == p.slug) return fake_error(400, "BadRequest", "Privilege slug already exists");
    i->privileges.push_back(p);
    return fake_reply(200, {{"privilege", {{"slug", p.slug}, {"identityId", i->id}}}});
  }
  return fake_error(404, "Not Found", "Route " + r.method + ":" + path + " not found");
}

std::string FakeInfisicalAdmin::add_identity(const std::string& name,
                                             std::vector<std::pair<std::string, std::string>> metadata) {
  std::lock_guard lock(mutex_);
  Identity i;
  i.id = next_id("ident-");
  i.name = name;
  i.metadata = std::move(metadata);
  identities_.push_back(i);
  return i.id;
}

std::string FakeInfisicalAdmin::add_client_secret(const std::string& identity_id, const std::string& created_at) {
  std::lock_guard lock(mutex_);
  Identity* i = find_identity_by_id(identity_id);
  if (i == nullptr) return {};
  if (!i->universal_auth) {
    i->universal_auth = true;
    i->client_id = "ua-" + random_token(8);
    i->ttl = 3600;
    i->max_ttl = 7200;
  }
  ClientSecret s{next_id("cs-"), "cs." + random_token(24), created_at, false};
  i->secrets.push_back(s);
  issued_.push_back(s.value);
  return s.value;
}

void FakeInfisicalAdmin::add_privilege(const std::string& identity_id, Privilege p) {
  std::lock_guard lock(mutex_);
  if (Identity* i = find_identity_by_id(identity_id)) {
    i->member = true;
    i->privileges.push_back(std::move(p));
  }
}

std::optional<FakeInfisicalAdmin::Identity> FakeInfisicalAdmin::identity(const std::string& name) const {
  std::lock_guard lock(mutex_);
  for (auto& i : identities_)
    if (i.name == name) return i;
  return std::nullopt;
}

std::size_t FakeInfisicalAdmin::identity_count(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(identities_.begin(), identities_.end(), [&](const Identity& i) { return i.name == name; }));
}

}  // namespace vp::test
