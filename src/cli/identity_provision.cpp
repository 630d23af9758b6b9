// `vault-proxy identity provision`: the runbook's template, steps 1-9, in the issue's order. Each
// step first looks for what exists, so a re-run after a failure continues where it stopped.

#include "cli/exit_codes.hpp"
#include "cli/identity_checks.hpp"
#include "cli/identity_cmd.hpp"
#include "cli/identity_support.hpp"
#include "cli/secret_cmd.hpp"

#include <fmt/format.h>

#include <iostream>

namespace vp::cli {
namespace {

using json = nlohmann::json;

struct Provision {
  const ProvisionOptions& o;
  const AdminContext& ctx;
  infisical::Client& client;
  const core::Secret& token;
  infisical::Admin admin{client, token};
  infisical::IdentityAdmin ids{client, token};
  CredentialPlace at;
  std::vector<StepResult> steps;
  std::string org, identity_id, client_id, leftover;

  bool fail(std::string step, std::string problem) {
    steps.push_back({std::move(step), "failed", std::move(problem)});
    return false;
  }

  net::awaitable<bool> identity() {
    auto found = co_await find_identity(admin, ids, ctx.project_id, o.name, org, ctx.deadline);
    if (!found.problem.empty()) co_return fail("identity", found.problem);
    if (found.identity && !found.owned && !o.adopt)
      co_return fail("identity", fmt::format("'{}' exists ({}) and was not created by vault-proxy (no metadata {}={}); "
                                             "it is left alone. Pass --adopt to manage it",
                                             o.name, found.identity->id, owner_key, owner_value));
    if (found.identity) {
      identity_id = found.identity->id;
      steps.push_back({"identity", "exists", identity_id + (found.owned ? "" : " (adopted)")});
      co_return true;
    }
    const std::vector<std::pair<std::string, std::string>> mark{{owner_key, owner_value}};
    auto made = co_await ids.create_identity(org, o.name, mark, identity_id, ctx.deadline);
    if (!made.ok) co_return fail("identity", made.problem);
    steps.push_back({"identity", "created", identity_id + ", org role no-access"});
    co_return true;
  }

  net::awaitable<bool> universal_auth() {
    bool attached = false;
    auto o1 = co_await ids.universal_auth(identity_id, attached, client_id, ctx.deadline);
    if (!o1.ok) co_return fail("universal auth", o1.problem);
    if (attached) {
      steps.push_back({"universal auth", "exists", "client id " + client_id});
      co_return true;
    }
    auto o2 = co_await ids.attach_universal_auth(identity_id, o.ttl, o.max_ttl, client_id, ctx.deadline);
    if (!o2.ok) co_return fail("universal auth", o2.problem);
    steps.push_back({"universal auth", "created", fmt::format("client id {}, TTL {}s, max TTL {}s", client_id, o.ttl,
                                                              o.max_ttl)});
    co_return true;
  }

  /// True when the stored pair names this client id and a secret that is still active.
  net::awaitable<bool> stored_secret_is_live(std::string& secret_id) {
    // Named queries: GCC 12 destroys a braced temporary inside a co_await expression twice.
    const infisical::SecretQuery id_query{ctx.project_id, at.place.environment, at.place.path, at.id_key};
    const infisical::SecretQuery secret_query{ctx.project_id, at.place.environment, at.place.path, at.secret_key};
    auto id = co_await client.get_secret(token, id_query, ctx.deadline);
    auto sec = co_await client.get_secret(token, secret_query, ctx.deadline);
    if (!id.value || !sec.value || id.value->reveal() != client_id || sec.value->size() < 4) co_return false;
    std::vector<infisical::ClientSecretInfo> list;
    if (!(co_await ids.list_client_secrets(identity_id, list, ctx.deadline)).ok) co_return false;
    for (auto& s : list)
      if (!s.revoked && s.prefix == sec.value->reveal().substr(0, 4)) secret_id = s.id;
    co_return !secret_id.empty();
  }

  net::awaitable<bool> client_secret() {
    std::string live;
    if (co_await stored_secret_is_live(live)) {
      steps.push_back({"client secret", "exists", fmt::format("{} is stored at {} ({}, {})", live, at.place.path,
                                                              at.id_key, at.secret_key)});
      co_return true;
    }
    auto issued = co_await issue_and_store(admin, ids, at, identity_id, client_id, "vault-proxy " + today_utc(),
                                           ctx.deadline);
    if (!issued.outcome.ok) {
      leftover = issued.state;
      co_return fail("client secret", issued.outcome.problem + "; " + issued.state);
    }
    steps.push_back({"client secret", "created", fmt::format("{} stored at {}: {} v{}, {} v{}", issued.secret_id,
                                                             at.place.path, at.secret_key, issued.secret_version,
                                                             at.id_key, issued.id_version)});
    co_return true;
  }

  net::awaitable<bool> membership() {
    bool member = false;
    auto o1 = co_await ids.project_membership(ctx.project_id, identity_id, member, ctx.deadline);
    if (!o1.ok) co_return fail("membership", o1.problem);
    if (!member) {
      auto o2 = co_await ids.add_project_membership(ctx.project_id, identity_id, ctx.deadline);
      if (!o2.ok) co_return fail("membership", o2.problem);
    }
    steps.push_back({"membership", member ? "exists" : "created", "project " + ctx.project_id + ", role no-access"});
    co_return true;
  }

  net::awaitable<bool> privilege() {
    const infisical::ReadPrivilege want{privilege_slug(o.name), o.admin.environment, o.path_glob, {"read"}};
    const std::string what = fmt::format("{}: read on secrets, {}, {}", want.slug, want.environment, want.glob);
    std::optional<infisical::ReadPrivilege> have;
    auto o1 = co_await ids.privilege(ctx.project_id, identity_id, want.slug, have, ctx.deadline);
    if (!o1.ok) co_return fail("privilege", o1.problem);
    if (have) {
      if (have->actions != want.actions || have->environment != want.environment || have->glob != want.glob)
        co_return fail("privilege", fmt::format("{} exists but grants [{}] on {}, {}, not what was asked ({}); this "
                                                "tool never edits a privilege: fix or remove it in the admin UI",
                                                want.slug, fmt::join(have->actions, ","), have->environment,
                                                have->glob, what));
      steps.push_back({"privilege", "exists", what});
      co_return true;
    }
    auto o2 = co_await ids.create_read_privilege(ctx.project_id, identity_id, want, ctx.deadline);
    if (!o2.ok) co_return fail("privilege", o2.problem);
    steps.push_back({"privilege", "created", what});
    co_return true;
  }
};

void plan_provision(const ProvisionOptions& o, const AdminContext& ctx, const CredentialPlace& at) {
  Plan plan;
  plan.add("GET", "/api/v1/workspace/" + ctx.project_id, "the organisation id");
  plan.add("GET", "/api/v2/organizations/<org>/identity-memberships", "does '" + o.name + "' exist, and is it ours?");
  plan.add("POST", "/api/v1/identities", "only if missing: role no-access, metadata managed-by=vault-proxy");
  plan.add("POST", "/api/v1/auth/universal-auth/identities/<id>",
           fmt::format("only if not attached: TTL {}s, max TTL {}s", o.ttl, o.max_ttl));
  plan.add("GET", "/api/v3/secrets/raw/" + at.secret_key, "is a live secret already stored at " + at.place.path + "?");
  plan.add("POST", "/api/v1/folders", "only if missing: the folders of " + at.place.path);
  plan.add("POST", "/api/v1/auth/universal-auth/identities/<id>/client-secrets", "the secret (shown once)");
  plan.add("POST|PATCH", "/api/v3/secrets/raw/" + at.secret_key, "at once: secretValue <redacted>");
  plan.add("POST|PATCH", "/api/v3/secrets/raw/" + at.id_key, "the client id");
  plan.add("POST", "/api/v2/workspace/" + ctx.project_id + "/identity-memberships/<id>", "only if missing: no-access");
  plan.add("POST", "/api/v2/identity-project-additional-privilege",
           fmt::format("only if missing: {}: read on secrets, {}, {}", privilege_slug(o.name), o.admin.environment,
                       o.path_glob));
  plan.wrap_in_session();
  plan.print(std::cout, o.admin.json, ctx.route);
}

std::string usage_problem(const ProvisionOptions& o) {
  if (auto p = identity_name_problem(o.name); !p.empty()) return p;
  if (auto p = glob_problem(o.path_glob, o.allow_broad); !p.empty()) return p;
  if (o.ttl <= 0 || o.max_ttl <= 0 || o.ttl > o.max_ttl)
    return fmt::format("--ttl {} and --max-ttl {} must be positive, the TTL not above the max TTL", o.ttl, o.max_ttl);
  if (o.key_prefix && (o.key_prefix->empty() || key_prefix_of(*o.key_prefix) != *o.key_prefix))
    return "--key-prefix may hold only upper-case letters, digits and '_'";
  return {};
}

}  // namespace

int run_provision(const ProvisionOptions& o, const config::Env& env) {
  constexpr std::string_view cmd = "identity provision";
  if (auto p = usage_problem(o); !p.empty()) {
    std::cerr << "vault-proxy " << cmd << ": " << p << "\n";
    return exit_usage;
  }
  int rc = exit_ok;
  auto ctx = prepare_admin(o.admin, env, cmd, std::cerr, rc);
  if (!ctx) return rc;
  const std::string prefix = o.key_prefix.value_or(key_prefix_of(o.name));
  const CredentialPlace at{{ctx->project_id, o.admin.environment, credentials_path(o.name)},
                           prefix + "_CLIENT_ID",
                           prefix + "_CLIENT_SECRET"};
  if (o.admin.dry_run) {
    plan_provision(o, *ctx, at);
    return exit_ok;
  }
  return with_admin_session(*ctx, cmd, std::cerr, [&](infisical::Client& c, const core::Secret& token) -> net::awaitable<int> {
    Provision p{o, *ctx, c, token, {c, token}, {c, token}, at, {}, {}, {}, {}, {}};
    const bool ok = co_await p.identity() && co_await p.universal_auth() && co_await p.client_secret() &&
                    co_await p.membership() && co_await p.privilege();
    print_steps(std::cout, "identity provision " + o.name, p.steps, o.admin.json,
                json{{"identity", o.name}, {"identity_id", p.identity_id}, {"client_id", p.client_id},
                     {"credentials_path", at.place.path}, {"ok", ok}});
    if (!ok)
      std::cerr << "vault-proxy identity provision: stopped at the failed step"
                << (p.leftover.empty() ? "" : " (" + p.leftover + ")")
                << ". Run the same command again to continue: it finds what exists and goes on from there.\n";
    co_return ok ? exit_ok : exit_failure;
  });
}

void add_identity(CLI::App& app, int& exit_code) {
  auto* identity = app.add_subcommand("identity", "Provision, validate, rotate and revoke read-only machine identities");
  identity->require_subcommand(1);
  auto o = std::make_shared<ProvisionOptions>();
  auto* cmd = identity->add_subcommand(
      "provision", "Create a read-only identity scoped to one path glob, storing its client secret in the vault at once");
  cmd->add_option("name", o->name, "the identity's name")->required();
  cmd->add_option("--path-glob", o->path_glob, "the secrets it may read, e.g. '/MooseQuest/<scope>/**'")->required();
  cmd->add_option("--ttl", o->ttl, "access token TTL in seconds (default 3600)");
  cmd->add_option("--max-ttl", o->max_ttl, "access token max TTL in seconds (default 7200)");
  cmd->add_option_function<std::string>("--key-prefix", [o](const std::string& v) { o->key_prefix = v; },
                                        "prefix of the stored keys (default: the name in upper case, '_' for others)");
  cmd->add_flag("--allow-broad", o->allow_broad, "allow /** or a glob whose first folder is a wildcard");
  cmd->add_flag("--adopt", o->adopt, "manage an identity of that name that vault-proxy did not create");
  add_admin_options(*cmd, o->admin);
  cmd->footer("Idempotent: a re-run finds what exists and continues. Exit codes: 0 every step done, 1 a step failed "
              "(see the table), 2 usage, configuration or credentials. See docs/identities.md.");
  cmd->callback([o, &exit_code] { exit_code = run_provision(*o, config::process_env()); });
  add_identity_checks(*identity, exit_code);
}

}  // namespace vp::cli
