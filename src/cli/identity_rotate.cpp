// `vault-proxy identity rotate` (create → store → verify a login → only then revoke the old secrets;
// any failure says which state was left and how to finish) and `vault-proxy identity revoke` (the
// escalation path for a suspected leak: revoke every client secret of the identity).

#include "cli/exit_codes.hpp"
#include "cli/identity_checks.hpp"
#include "cli/identity_support.hpp"

#include <fmt/format.h>

#include <ctime>
#include <iostream>

namespace vp::cli {
namespace {

using json = nlohmann::json;

/// The identity, its client id and its active secrets; `problem` when it cannot be used.
struct Target {
  std::string identity_id, client_id, problem;
  std::vector<infisical::ClientSecretInfo> active;
};

net::awaitable<Target> load_target(infisical::Admin& admin, infisical::IdentityAdmin& ids, const AdminContext& ctx,
                                   const std::string& name, bool need_owned) {
  Target t;
  std::string org;
  auto found = co_await find_identity(admin, ids, ctx.project_id, name, org, ctx.deadline);
  if (!found.problem.empty() || !found.identity) {
    t.problem = found.problem.empty() ? fmt::format("no identity is named '{}'", name) : found.problem;
    co_return t;
  }
  if (need_owned && !found.owned) {
    t.problem = fmt::format("'{}' was not created by vault-proxy (no metadata {}={}); pass --adopt to manage it", name,
                            owner_key, owner_value);
    co_return t;
  }
  t.identity_id = found.identity->id;
  bool attached = false;
  auto ua = co_await ids.universal_auth(t.identity_id, attached, t.client_id, ctx.deadline);
  if (!ua.ok || !attached) {
    t.problem = ua.ok ? fmt::format("'{}' has no universal auth; run 'vault-proxy identity provision'", name) : ua.problem;
    co_return t;
  }
  std::vector<infisical::ClientSecretInfo> all;
  auto listed = co_await ids.list_client_secrets(t.identity_id, all, ctx.deadline);
  if (!listed.ok) t.problem = listed.problem;
  for (auto& s : all)
    if (!s.revoked) t.active.push_back(s);
  co_return t;
}

std::optional<std::int64_t> age_seconds(const std::string& iso) {
  std::tm tm{};
  if (::strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return std::nullopt;
  return static_cast<std::int64_t>(std::time(nullptr) - ::timegm(&tm));
}

std::string ids_of(const std::vector<infisical::ClientSecretInfo>& list) {
  std::string out;
  for (auto& s : list) out += (out.empty() ? "" : ", ") + s.id;
  return out.empty() ? "none" : out;
}

/// Stops the rotation: the step failed, the state left, and the command that finishes the job.
int stop(std::vector<StepResult>& steps, const RotateOptions& o, std::string step, std::string problem,
         const std::string& state) {
  steps.push_back({std::move(step), "failed", std::move(problem)});
  print_steps(std::cout, "identity rotate " + o.name, steps, o.admin.json, json{{"identity", o.name}, {"ok", false},
                                                                               {"state", state}});
  std::cerr << "vault-proxy identity rotate: " << state << "\nTo finish: vault-proxy identity rotate " << o.name
            << " (it creates and verifies a new secret, then revokes every other one).\n";
  return exit_failure;
}

net::awaitable<int> rotate(const RotateOptions& o, const AdminContext& ctx, infisical::Client& c, const core::Secret& token) {
  infisical::Admin admin(c, token);
  infisical::IdentityAdmin ids(c, token);
  std::vector<StepResult> steps;
  auto t = co_await load_target(admin, ids, ctx, o.name, !o.adopt);
  if (!t.problem.empty()) co_return stop(steps, o, "identity", t.problem, "nothing was changed");
  if (o.if_older_than && !t.active.empty()) {
    std::int64_t youngest = -1;
    for (auto& s : t.active)
      if (auto a = age_seconds(s.created_at); a && (youngest < 0 || *a < youngest)) youngest = *a;
    if (youngest >= 0 && youngest < *o.if_older_than) {
      steps.push_back({"client secret", "not due", fmt::format("the newest is {}s old, the limit {}s", youngest,
                                                               *o.if_older_than)});
      print_steps(std::cout, "identity rotate " + o.name, steps, o.admin.json, json{{"identity", o.name}, {"ok", true}});
      co_return exit_ok;
    }
  }
  const std::string prefix = o.key_prefix.value_or(key_prefix_of(o.name));
  const CredentialPlace at{{ctx.project_id, o.admin.environment, credentials_path(o.name)}, prefix + "_CLIENT_ID",
                           prefix + "_CLIENT_SECRET"};
  auto issued = co_await issue_and_store(admin, ids, at, t.identity_id, t.client_id, "vault-proxy rotation " + today_utc(),
                                         ctx.deadline);
  if (!issued.outcome.ok)
    co_return stop(steps, o, "new secret", issued.outcome.problem,
                   issued.state + fmt::format("; the old secret(s) {} are untouched, still active and stored", ids_of(t.active)));
  steps.push_back({"new secret", "created", fmt::format("{}, stored: {} v{}", issued.secret_id, at.secret_key,
                                                        issued.secret_version)});
  const core::Secret client_id(t.client_id);
  auto login = co_await c.login(client_id, *issued.value, ctx.deadline);
  if (!login.access_token)
    co_return stop(steps, o, "verify login", fmt::format("login with the new secret answered {}", login.reply.status),
                   fmt::format("the new secret {} is stored but did not log in; the old secret(s) {} are still active "
                               "and were NOT revoked",
                               issued.secret_id, ids_of(t.active)));
  co_await c.revoke(*login.access_token, ctx.deadline);
  steps.push_back({"verify login", "created", "login with the new secret answered 200"});
  std::vector<infisical::ClientSecretInfo> left;
  for (auto& s : t.active) {
    auto r = co_await ids.revoke_client_secret(t.identity_id, s.id, ctx.deadline);
    if (!r.ok) left.push_back(s);
    steps.push_back({"revoke old", r.ok ? "revoked" : "failed", s.id + (r.ok ? "" : ": " + r.problem)});
  }
  if (!left.empty())
    co_return stop(steps, o, "revoke old", "some old secrets are still active",
                   fmt::format("the new secret {} is stored and verified; the old secret(s) {} are still active",
                               issued.secret_id, ids_of(left)));
  print_steps(std::cout, "identity rotate " + o.name, steps, o.admin.json,
              json{{"identity", o.name}, {"ok", true}, {"secret_id", issued.secret_id}});
  co_return exit_ok;
}

}  // namespace

std::optional<std::int64_t> parse_age(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t unit = 1;
  switch (text.back()) {
    case 'd': unit = 86400; break;
    case 'h': unit = 3600; break;
    case 'm': unit = 60; break;
    case 's': unit = 1; break;
    default: unit = 0;
  }
  if (unit != 0) text.remove_suffix(1);
  else unit = 1;
  if (text.empty() || text.size() > 9) return std::nullopt;
  std::int64_t n = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return std::nullopt;
    n = n * 10 + (ch - '0');
  }
  return n * unit;
}

int run_rotate(const RotateOptions& o, const config::Env& env) {
  auto plan = [&](Plan& plan) {
    plan.add("GET", "/api/v2/organizations/<org>/identity-memberships", "find '" + o.name + "'");
    plan.add("GET", "/api/v1/auth/universal-auth/identities/<id>/client-secrets", "the active secrets and their age");
    plan.add("POST", "/api/v1/auth/universal-auth/identities/<id>/client-secrets", "the new secret (shown once)");
    plan.add("POST|PATCH", "/api/v3/secrets/raw/<PREFIX>_CLIENT_SECRET", "stored at once: secretValue <redacted>");
    plan.add("POST", "/api/v1/auth/universal-auth/login", "verify: one login with the new secret (<redacted>)");
    plan.add("POST", "/api/v1/auth/universal-auth/identities/<id>/client-secrets/<old>/revoke", "each old secret");
  };
  return run_admin_command(o.admin, env, "identity rotate", identity_name_problem(o.name), plan,
                           [&](const AdminContext& ctx, infisical::Client& c, const core::Secret& token) {
                             return rotate(o, ctx, c, token);
                           });
}

}  // namespace vp::cli
