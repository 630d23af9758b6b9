// `vault-proxy identity validate`: the runbook's step 10, all of it. One login as the identity (three
// wrong secrets lock it), then reads, a write and a delete that must be refused; a canary that was
// unexpectedly written is deleted as admin.

#include "cli/exit_codes.hpp"
#include "cli/identity_checks.hpp"
#include "cli/identity_support.hpp"
#include "cli/secret_cmd.hpp"
#include "config/credentials.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <iostream>

namespace vp::cli {
namespace {

using json = nlohmann::json;

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes));
  std::string out;
  for (unsigned char c : raw) out += fmt::format("{:02x}", c);
  return out;
}

struct Validate {
  const ValidateOptions& o;
  const AdminContext& ctx;
  infisical::Client& client;
  const core::Secret& admin_token;
  std::vector<StepResult> checks;

  void check(std::string name, bool pass, std::string detail) {
    checks.push_back({std::move(name), pass ? "PASS" : "FAIL", std::move(detail)});
  }

  /// The identity's credentials: INFISICAL_MCP_CLIENT_ID / _SECRET when set, else where provision stored them.
  net::awaitable<std::optional<core::ServiceToken>> credentials(const config::Env& env) {
    auto given = config::load_credentials(env, config::identity_names());
    if (given.token) co_return std::move(given.token);
    const std::string prefix = o.key_prefix.value_or(key_prefix_of(o.name));
    const infisical::SecretQuery id_query{ctx.project_id, o.admin.environment, credentials_path(o.name),
                                          prefix + "_CLIENT_ID"};
    const infisical::SecretQuery secret_query{ctx.project_id, o.admin.environment, credentials_path(o.name),
                                              prefix + "_CLIENT_SECRET"};
    auto id = co_await client.get_secret(admin_token, id_query, ctx.deadline);
    auto secret = co_await client.get_secret(admin_token, secret_query, ctx.deadline);
    if (!id.value || !secret.value) {
      check("credentials", false,
            fmt::format("{} or {} not readable at {} ({} / {}); set INFISICAL_MCP_CLIENT_ID and _SECRET instead",
                        id_query.key, secret_query.key, id_query.secret_path, id.reply.status, secret.reply.status));
      co_return std::nullopt;
    }
    core::ServiceToken t;
    t.client_id = std::move(*id.value);
    t.client_secret = std::move(*secret.value);
    co_return t;
  }

  net::awaitable<void> probes(const core::Secret& token, const ExecBinding& in) {
    infisical::Admin as_identity(client, token);
    const infisical::SecretQuery in_query{ctx.project_id, o.admin.environment, in.path, in.key};
    auto read = co_await client.get_secret(token, in_query, ctx.deadline);
    check("in-scope read", read.found, fmt::format("{}@{} answered {} (200 expected)", in.key, in.path, read.reply.status));
    const infisical::SecretPlace out{ctx.project_id, o.admin.environment, infisical::normal_path(o.out_of_scope)};
    bool exists = false;
    std::int64_t version = 0;
    auto outside = co_await as_identity.secret_version(out, "VP_VALIDATE_PROBE", exists, version, ctx.deadline);
    check("out-of-scope read", outside.status == 403, fmt::format("{} answered {} (403 expected)", out.path, outside.status));
    const infisical::SecretPlace place{ctx.project_id, o.admin.environment, infisical::normal_path(in.path)};
    const std::string canary = "VP_CANARY_" + random_hex(6);
    const core::Secret canary_value(random_hex(16));
    auto write = co_await as_identity.create_secret(place, canary, canary_value, ctx.deadline);
    check("write", write.outcome.status == 403,
          fmt::format("POST {} in {} answered {} (403 expected){}", canary, place.path, write.outcome.status,
                      write.outcome.ok ? ": THE IDENTITY CAN WRITE" : ""));
    auto del = co_await as_identity.delete_secret(place, canary, ctx.deadline);
    check("delete", del.status == 403, fmt::format("DELETE {} in {} answered {} (403 expected)", canary, place.path,
                                                   del.status));
    if (write.outcome.ok) co_await remove_canary(place, canary);
  }

  net::awaitable<void> remove_canary(const infisical::SecretPlace& place, const std::string& canary) {
    infisical::Admin admin(client, admin_token);
    bool exists = false;
    std::int64_t version = 0;
    co_await admin.secret_version(place, canary, exists, version, ctx.deadline);
    if (!exists) co_return;
    auto gone = co_await admin.delete_secret(place, canary, ctx.deadline);
    check("canary cleanup", gone.ok,
          gone.ok ? fmt::format("{} deleted as admin", canary)
                  : fmt::format("{} could NOT be deleted ({}): delete it in {} by hand", canary, gone.problem, place.path));
  }
};

net::awaitable<int> validate(const ValidateOptions& o, const config::Env& env, const ExecBinding& in,
                             const AdminContext& ctx, infisical::Client& c, const core::Secret& token) {
  Validate v{o, ctx, c, token, {}};
  if (auto creds = co_await v.credentials(env)) {
    // Exactly one login: three wrong secrets lock the identity.
    auto login = co_await c.login(creds->client_id, creds->client_secret, ctx.deadline);
    v.check("auth", login.access_token.has_value(),
            fmt::format("login answered {}{}", login.reply.status, login.locked ? " (locked)" : ""));
    if (login.access_token) {
      co_await v.probes(*login.access_token, in);
      co_await c.revoke(*login.access_token, ctx.deadline);
    }
  }
  bool ok = v.checks.size() >= 5;
  for (auto& ch : v.checks) ok = ok && ch.status == "PASS";
  print_steps(std::cout, "identity validate " + o.name, v.checks, o.admin.json, json{{"identity", o.name}, {"ok", ok}});
  co_return ok ? exit_ok : exit_failure;
}

}  // namespace

int run_validate(const ValidateOptions& o, const config::Env& env) {
  std::string problem;
  auto in = parse_binding("IN=" + o.in_scope, problem);
  if (!problem.empty()) problem += " (--in-scope is KEY@PATH)";
  if (auto p = identity_name_problem(o.name); !p.empty()) problem = p;
  if (auto p = path_problem(o.out_of_scope); !p.empty()) problem = p;
  auto plan = [&](Plan& plan) {
    plan.add("GET", "/api/v3/secrets/raw/<PREFIX>_CLIENT_ID and _CLIENT_SECRET",
             "(admin) the identity's credentials, unless INFISICAL_MCP_CLIENT_ID / _SECRET are set");
    plan.add("POST", "/api/v1/auth/universal-auth/login", "once, as the identity (<redacted>)");
    plan.add("GET", "/api/v3/secrets/raw/" + (in ? in->key + "?secretPath=" + in->path : ""), "200 expected");
    plan.add("GET", "/api/v3/secrets/raw/VP_VALIDATE_PROBE?secretPath=" + o.out_of_scope, "403 expected");
    plan.add("POST", "/api/v3/secrets/raw/VP_CANARY_<random>", "403 expected; deleted as admin if it succeeds");
    plan.add("DELETE", "/api/v3/secrets/raw/VP_CANARY_<random>", "403 expected");
    plan.add("POST", "/api/v1/auth/token/revoke", "the identity's token");
  };
  return run_admin_command(o.admin, env, "identity validate", problem, plan,
                           [&](const AdminContext& ctx, infisical::Client& c, const core::Secret& token) {
                             return validate(o, env, *in, ctx, c, token);
                           });
}

void add_identity_checks(CLI::App& identity, int& exit_code) {
  auto o = std::make_shared<ValidateOptions>();
  auto* cmd = identity.add_subcommand(
      "validate", "Check an identity's scope: auth 200, in-scope read 200, out-of-scope read 403, write 403, delete "
                  "403; one login only");
  cmd->add_option("name", o->name, "the identity's name")->required();
  cmd->add_option("--in-scope", o->in_scope, "KEY@PATH: a secret the identity must be able to read")->required();
  cmd->add_option("--out-of-scope", o->out_of_scope, "a folder the identity must not read")->required();
  cmd->add_option_function<std::string>("--key-prefix", [o](const std::string& v) { o->key_prefix = v; },
                                        "prefix of the stored keys (as given to provision)");
  add_admin_options(*cmd, o->admin);
  cmd->footer("The identity's credentials come from INFISICAL_MCP_CLIENT_ID / _SECRET when set, else from where "
              "provision stored them. Exit codes: 0 every check PASSes, 1 a check FAILs, 2 usage, configuration or "
              "credentials.");
  cmd->callback([o, &exit_code] { exit_code = run_validate(*o, config::process_env()); });
  add_identity_maintenance(identity, exit_code);
}

}  // namespace vp::cli
