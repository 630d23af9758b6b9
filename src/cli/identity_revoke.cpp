// `vault-proxy identity revoke`: the runbook's escalation path for a suspected leak ("revoke in
// Infisical admin UI (less than 60 seconds)"). It works on any identity, marked or not: stopping a
// leak must not wait for --adopt. And the registration of `rotate` and `revoke`.

#include "cli/exit_codes.hpp"
#include "cli/identity_checks.hpp"

#include <fmt/format.h>

#include <iostream>
#include <string>

namespace vp::cli {
namespace {

using json = nlohmann::json;

bool confirmed(const std::string& name, const std::vector<infisical::ClientSecretInfo>& active) {
  std::cerr << fmt::format("About to revoke {} client secret(s) of '{}':\n", active.size(), name);
  for (auto& s : active) std::cerr << fmt::format("  {} (created {})\n", s.id, s.created_at);
  std::cerr << "Every session using them stops working. Type 'yes' to revoke: ";
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "yes";
}

net::awaitable<int> revoke_all(const RevokeOptions& o, const AdminContext& ctx, infisical::Client& c,
                               const core::Secret& token) {
  infisical::Admin admin(c, token);
  infisical::IdentityAdmin ids(c, token);
  std::vector<StepResult> steps;
  std::string org, client_id;
  auto found = co_await find_identity(admin, ids, ctx.project_id, o.name, org, ctx.deadline);
  if (!found.identity) {
    std::cerr << "vault-proxy identity revoke: "
              << (found.problem.empty() ? fmt::format("no identity is named '{}'", o.name) : found.problem) << "\n";
    co_return exit_failure;
  }
  std::vector<infisical::ClientSecretInfo> all, active;
  auto listed = co_await ids.list_client_secrets(found.identity->id, all, ctx.deadline);
  if (!listed.ok && listed.status != 400 && listed.status != 404) {
    std::cerr << "vault-proxy identity revoke: " << listed.problem << "\n";
    co_return exit_failure;
  }
  for (auto& s : all)
    if (!s.revoked) active.push_back(s);
  if (!active.empty() && !o.yes && !confirmed(o.name, active)) {
    std::cerr << "vault-proxy identity revoke: not confirmed; nothing was revoked\n";
    co_return exit_failure;
  }
  bool ok = true;
  for (auto& s : active) {
    auto r = co_await ids.revoke_client_secret(found.identity->id, s.id, ctx.deadline);
    ok = ok && r.ok;
    steps.push_back({"client secret", r.ok ? "revoked" : "failed",
                     fmt::format("{} (created {}){}", s.id, s.created_at, r.ok ? "" : ": " + r.problem)});
  }
  if (active.empty()) steps.push_back({"client secret", "none", "no active client secret"});
  print_steps(std::cout, "identity revoke " + o.name, steps, o.admin.json,
              json{{"identity", o.name}, {"identity_id", found.identity->id}, {"ok", ok}});
  co_return ok ? exit_ok : exit_failure;
}

}  // namespace

int run_revoke(const RevokeOptions& o, const config::Env& env) {
  auto plan = [&](Plan& plan) {
    plan.add("GET", "/api/v2/organizations/<org>/identity-memberships", "find '" + o.name + "'");
    plan.add("GET", "/api/v1/auth/universal-auth/identities/<id>/client-secrets", "the active secrets");
    plan.add("POST", "/api/v1/auth/universal-auth/identities/<id>/client-secrets/<each>/revoke", "every active one");
  };
  return run_admin_command(o.admin, env, "identity revoke", identity_name_problem(o.name), plan,
                           [&](const AdminContext& ctx, infisical::Client& c, const core::Secret& token) {
                             return revoke_all(o, ctx, c, token);
                           });
}

void add_identity_maintenance(CLI::App& identity, int& exit_code) {
  auto r = std::make_shared<RotateOptions>();
  auto* rotate = identity.add_subcommand(
      "rotate", "Rotate the client secret with no downtime: create, store, verify a login, then revoke the old ones");
  rotate->add_option("name", r->name, "the identity's name")->required();
  rotate->add_option_function<std::string>(
      "--if-older-than",
      [r](const std::string& v) {
        r->if_older_than = parse_age(v);
        if (!r->if_older_than) throw CLI::ValidationError("--if-older-than", "'" + v + "' is not e.g. 30d, 12h, 90m");
      },
      "rotate only when the newest active secret is older than this (30d, 12h, 90m, 3600s), for timers");
  rotate->add_option_function<std::string>("--key-prefix", [r](const std::string& v) { r->key_prefix = v; },
                                           "prefix of the stored keys (as given to provision)");
  rotate->add_flag("--adopt", r->adopt, "rotate an identity that vault-proxy did not create");
  add_admin_options(*rotate, r->admin);
  rotate->footer("A proxy in auto-auth mode that holds this identity picks the new secret up through its file watch. "
                 "Exit codes: 0 rotated or not due, 1 a step failed (the state left and the finishing command are "
                 "printed), 2 usage, configuration or credentials.");
  rotate->callback([r, &exit_code] { exit_code = run_rotate(*r, config::process_env()); });

  auto v = std::make_shared<RevokeOptions>();
  auto* revoke = identity.add_subcommand("revoke", "Revoke every client secret of an identity (suspected leak)");
  revoke->add_option("name", v->name, "the identity's name")->required();
  revoke->add_flag("-y,--yes", v->yes, "do not ask for confirmation");
  add_admin_options(*revoke, v->admin);
  revoke->footer("Exit codes: 0 every active secret revoked (or none active), 1 not confirmed or a revoke failed, "
                 "2 usage, configuration or credentials.");
  revoke->callback([v, &exit_code] { exit_code = run_revoke(*v, config::process_env()); });
}

}  // namespace vp::cli
