#include "infisical/admin_identity.hpp"

namespace vp::infisical {
namespace {

using json = nlohmann::json;
using detail::AnyObject;
using detail::str;
using detail::with_token;

/// {"clientSecret", "clientSecretData": {"id"}}: the secret moves into a Secret at once.
struct ClientSecretBody {
  std::optional<core::Secret> secret;
  std::string id;
  static std::optional<ClientSecretBody> decode(json& j) {
    if (!j.is_object()) return std::nullopt;
    ClientSecretBody b;
    if (auto it = j.find("clientSecret"); it != j.end() && it->is_string()) {
      auto& text = it->get_ref<std::string&>();
      if (!text.empty()) b.secret.emplace(std::string(text));
      core::wipe(text);
    }
    if (auto d = j.find("clientSecretData"); d != j.end() && d->is_object()) b.id = str(*d, "id");
    if (!b.secret || b.id.empty()) return std::nullopt;
    return b;
  }
};

ClientSecretInfo client_secret_info(const json& d) {
  ClientSecretInfo i{str(d, "id"), str(d, "clientSecretPrefix"), str(d, "description"), str(d, "createdAt"), false};
  if (auto r = d.find("isClientSecretRevoked"); r != d.end() && r->is_boolean()) i.revoked = r->get<bool>();
  return i;
}

/// Reads the first permission of a privilege as a ReadPrivilege.
std::optional<ReadPrivilege> read_privilege(const json& p) {
  if (!p.is_object()) return std::nullopt;
  ReadPrivilege out{str(p, "slug"), {}, {}, {}};
  auto perms = p.find("permissions");
  if (perms == p.end() || !perms->is_array() || perms->empty()) return out;
  const json& rule = perms->front();
  if (auto a = rule.find("action"); a != rule.end()) {
    if (a->is_string()) out.actions.push_back(a->get<std::string>());
    if (a->is_array())
      for (auto& x : *a)
        if (x.is_string()) out.actions.push_back(x.get<std::string>());
  }
  if (auto c = rule.find("conditions"); c != rule.end() && c->is_object()) {
    out.environment = str(*c, "environment");
    if (auto sp = c->find("secretPath"); sp != c->end())
      out.glob = sp->is_object() ? str(*sp, "$glob") : sp->is_string() ? sp->get<std::string>() : "";
  }
  return out;
}

std::string ua_target(const std::string& identity_id) {
  return "/api/v1/auth/universal-auth/identities/" + percent_encode(identity_id);
}

}  // namespace

net::awaitable<Outcome> IdentityAdmin::list_identities(const std::string& org_id, std::vector<IdentityInfo>& out,
                                                       clock::time_point dl) {
  const std::string target = "/api/v2/organizations/" + percent_encode(org_id) + "/identity-memberships";
  auto r = co_await client_.call<AnyObject>(http::verb::get, target, with_token(token_), dl);
  auto o = outcome_of(r.reply, r.error, r.ok(), "GET " + target);
  if (!o.ok || !r.value->body.contains("identityMemberships")) co_return o;
  for (auto& m : r.value->body["identityMemberships"]) {
    if (!m.is_object() || !m.contains("identity") || !m["identity"].is_object()) continue;
    const json& i = m["identity"];
    IdentityInfo info{str(i, "id"), str(i, "name"), {}};
    if (auto md = i.find("metadata"); md != i.end() && md->is_array())
      for (auto& kv : *md)
        if (kv.is_object()) info.metadata.emplace_back(str(kv, "key"), str(kv, "value"));
    out.push_back(std::move(info));
  }
  co_return o;
}

net::awaitable<Outcome> IdentityAdmin::create_identity(const std::string& org_id, const std::string& name,
                                                       const std::vector<std::pair<std::string, std::string>>& metadata,
                                                       std::string& id, clock::time_point dl) {
  auto p = with_token(token_);
  json md = json::array();
  for (auto& [k, v] : metadata) md.push_back({{"key", k}, {"value", v}});
  p.body = json{{"name", name}, {"organizationId", org_id}, {"role", "no-access"}, {"metadata", md}};
  auto r = co_await client_.call<AnyObject>(http::verb::post, "/api/v1/identities", std::move(p), dl);
  auto o = outcome_of(r.reply, r.error, r.ok(), "POST /api/v1/identities");
  if (o.ok) id = r.value->body.contains("identity") ? str(r.value->body["identity"], "id") : "";
  if (o.ok && id.empty()) o = {false, o.status, {}, "POST /api/v1/identities gave no identity.id"};
  co_return o;
}

net::awaitable<Outcome> IdentityAdmin::universal_auth(const std::string& identity_id, bool& attached,
                                                      std::string& client_id, clock::time_point dl) {
  auto r = co_await client_.call<AnyObject>(http::verb::get, ua_target(identity_id), with_token(token_), dl);
  attached = r.ok() && r.value->body.contains("identityUniversalAuth");
  if (attached) client_id = str(r.value->body["identityUniversalAuth"], "clientId");
  if (r.reply.ok() && (r.reply.status == 404 || r.reply.status == 400)) co_return Outcome{true, r.reply.status, {}, {}};
  co_return outcome_of(r.reply, r.error, r.ok(), "GET " + ua_target(identity_id));
}

net::awaitable<Outcome> IdentityAdmin::attach_universal_auth(const std::string& identity_id, std::int64_t ttl,
                                                             std::int64_t max_ttl, std::string& client_id,
                                                             clock::time_point dl) {
  auto p = with_token(token_);
  const json any_ip = json::array({{{"ipAddress", "0.0.0.0/0"}}, {{"ipAddress", "::/0"}}});
  p.body = json{{"accessTokenTTL", ttl},          {"accessTokenMaxTTL", max_ttl},  {"accessTokenNumUsesLimit", 0},
                {"accessTokenTrustedIps", any_ip}, {"clientSecretTrustedIps", any_ip}};
  auto r = co_await client_.call<AnyObject>(http::verb::post, ua_target(identity_id), std::move(p), dl);
  auto o = outcome_of(r.reply, r.error, r.ok(), "POST " + ua_target(identity_id));
  if (o.ok && r.value->body.contains("identityUniversalAuth"))
    client_id = str(r.value->body["identityUniversalAuth"], "clientId");
  if (o.ok && client_id.empty()) o = {false, o.status, {}, "POST " + ua_target(identity_id) + " gave no clientId"};
  co_return o;
}

net::awaitable<NewClientSecret> IdentityAdmin::create_client_secret(const std::string& identity_id,
                                                                    const std::string& description,
                                                                    clock::time_point dl) {
  auto p = with_token(token_);
  p.body = json{{"description", description}, {"ttl", 0}, {"numUsesLimit", 0}};
  const std::string target = ua_target(identity_id) + "/client-secrets";
  auto r = co_await client_.call<ClientSecretBody>(http::verb::post, target, std::move(p), dl);
  if (r.reply.ok() && r.reply.status / 100 == 2) core::wipe(r.reply.body);
  NewClientSecret out{outcome_of(r.reply, r.error, r.ok(), "POST " + target), std::nullopt, {}};
  if (r.ok()) {
    out.secret = std::move(r.value->secret);
    out.id = r.value->id;
  }
  co_return out;
}

net::awaitable<Outcome> IdentityAdmin::list_client_secrets(const std::string& identity_id,
                                                           std::vector<ClientSecretInfo>& out, clock::time_point dl) {
  const std::string target = ua_target(identity_id) + "/client-secrets";
  auto r = co_await client_.call<AnyObject>(http::verb::get, target, with_token(token_), dl);
  auto o = outcome_of(r.reply, r.error, r.ok(), "GET " + target);
  if (o.ok && r.value->body.contains("clientSecretData") && r.value->body["clientSecretData"].is_array())
    for (auto& d : r.value->body["clientSecretData"]) out.push_back(client_secret_info(d));
  co_return o;
}

net::awaitable<Outcome> IdentityAdmin::revoke_client_secret(const std::string& identity_id,
                                                            const std::string& secret_id, clock::time_point dl) {
  const std::string target = ua_target(identity_id) + "/client-secrets/" + percent_encode(secret_id) + "/revoke";
  auto r = co_await client_.call<AnyObject>(http::verb::post, target, with_token(token_), dl);
  co_return outcome_of(r.reply, r.error, r.ok(), "POST " + target);
}

net::awaitable<Outcome> IdentityAdmin::project_membership(const std::string& project_id,
                                                          const std::string& identity_id, bool& member,
                                                          clock::time_point dl) {
  const std::string target =
      "/api/v2/workspace/" + percent_encode(project_id) + "/identity-memberships/" + percent_encode(identity_id);
  auto r = co_await client_.call<AnyObject>(http::verb::get, target, with_token(token_), dl);
  member = r.ok();
  if (r.reply.ok() && r.reply.status == 404) co_return Outcome{true, 404, {}, {}};
  co_return outcome_of(r.reply, r.error, r.ok(), "GET " + target);
}

net::awaitable<Outcome> IdentityAdmin::add_project_membership(const std::string& project_id,
                                                              const std::string& identity_id, clock::time_point dl) {
  const std::string target =
      "/api/v2/workspace/" + percent_encode(project_id) + "/identity-memberships/" + percent_encode(identity_id);
  auto p = with_token(token_);
  p.body = json{{"role", "no-access"}};
  auto r = co_await client_.call<AnyObject>(http::verb::post, target, std::move(p), dl);
  co_return outcome_of(r.reply, r.error, r.ok(), "POST " + target);
}

net::awaitable<Outcome> IdentityAdmin::privilege(const std::string& project_id, const std::string& identity_id,
                                                 const std::string& slug, std::optional<ReadPrivilege>& out,
                                                 clock::time_point dl) {
  const std::string target = "/api/v2/identity-project-additional-privilege/slug/" + percent_encode(slug);
  auto p = with_token(token_);
  p.query = {{"identityId", identity_id}, {"projectId", project_id}};
  auto r = co_await client_.call<AnyObject>(http::verb::get, target, std::move(p), dl);
  if (r.ok() && r.value->body.contains("privilege")) out = read_privilege(r.value->body["privilege"]);
  if (r.reply.ok() && r.reply.status == 404) co_return Outcome{true, 404, {}, {}};
  co_return outcome_of(r.reply, r.error, r.ok(), "GET " + target);
}

net::awaitable<Outcome> IdentityAdmin::create_read_privilege(const std::string& project_id,
                                                             const std::string& identity_id, const ReadPrivilege& pr,
                                                             clock::time_point dl) {
  auto p = with_token(token_);
  // RULES: the only action ever granted is read.
  const json rule{{"subject", "secrets"},
                  {"action", json::array({"read"})},
                  {"conditions", {{"environment", pr.environment}, {"secretPath", {{"$glob", pr.glob}}}}}};
  p.body = json{{"identityId", identity_id}, {"projectId", project_id}, {"slug", pr.slug},
                {"type", {{"isTemporary", false}}}, {"permissions", json::array({rule})}};
  const std::string target = "/api/v2/identity-project-additional-privilege";
  auto r = co_await client_.call<AnyObject>(http::verb::post, target, std::move(p), dl);
  co_return outcome_of(r.reply, r.error, r.ok(), "POST " + target);
}

}  // namespace vp::infisical
