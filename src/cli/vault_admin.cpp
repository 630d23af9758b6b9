#include "cli/vault_admin.hpp"

#include "cli/exit_codes.hpp"
#include "cli/hardening.hpp"
#include "cli/runtime_state.hpp"
#include "cli/serve.hpp"
#include "config/credentials.hpp"
#include "net/tls.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <iostream>

namespace vp::cli {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

/// The running proxy to go through, if there is one that can carry an admin login. A proxy in
/// auto-auth mode answers every universal-auth login itself and refuses the admin's (it never
/// forwards a login, which could count towards its identity's lockout), so it is passed by.
std::optional<infisical::Endpoint> running_proxy(const config::Config& cfg, const config::Env& env,
                                                 std::string& note) {
  Survey survey = survey_proxies(env, std::nullopt);
  if (!survey.refused.empty()) {
    note = survey.refused;
    return std::nullopt;
  }
  const FoundProxy* pick = nullptr;
  for (auto& p : survey.running)
    if (pick == nullptr || p.state.port == cfg.port) pick = &p;
  if (pick == nullptr) return std::nullopt;
  std::string problem;
  auto host = loopback_connect_address(pick->state.listen, problem);
  auto prefix = host ? capability_prefix(pick->state, problem) : std::nullopt;
  if (!host || !prefix) {
    note = fmt::format("the proxy recorded in {} is not used: {}", pick->path, problem);
    return std::nullopt;
  }
  auto e = net_http::local_endpoint(*host, pick->state.port);
  e.base_path = *prefix;
  auto status = net_http::send_blocking(e, net_http::Request::get("/__vault-proxy/status"), 3s);
  auto body = json::parse(status.body, nullptr, false);
  if (!status.ok() || status.status != 200 || !body.is_object()) {
    note = fmt::format("the proxy on port {} did not answer its status ({}); going straight to the upstream",
                       pick->state.port, status.ok() ? std::to_string(status.status) : status.error);
    return std::nullopt;
  }
  if (body.contains("auto_auth") && body["auto_auth"].is_object()) {
    note = fmt::format("the proxy on port {} runs auto-auth, which answers every login itself; going straight "
                       "to the upstream",
                       pick->state.port);
    return std::nullopt;
  }
  return e;
}

infisical::Endpoint direct_endpoint(const config::Config& cfg, const config::Env& env, std::string& note) {
  infisical::Endpoint e;
  e.scheme = infisical::Endpoint::Scheme::https;
  e.host = cfg.upstream.host;
  e.port = cfg.upstream.port;
  e.dial = cfg.connect_to;
  e.tls = net_tls::make_client_context(cfg.ca_file);
  e.user_agent = cfg.user_agent;
  auto token = config::load_credentials(env);
  if (token.token) e.service_token = std::make_shared<const core::ServiceToken>(std::move(*token.token));
  else if (!token.none_configured) note = "the service token could not be read: " + token.issues.front().problem;
  else note = "no service token is configured (CF_ACCESS_CLIENT_ID / _SECRET): requests carry no Access headers";
  return e;
}

}  // namespace

void add_admin_options(CLI::App& cmd, AdminOptions& o) {
  add_config_flags(cmd, o.flags);
  cmd.add_option_function<std::string>("--project", [&o](const std::string& v) { o.project = v; },
                                       "Infisical project id (default: $INFISICAL_PROJECT_ID)");
  cmd.add_option("--env", o.environment, "environment slug (default prod)");
  cmd.add_flag("--json", o.json, "print JSON on stdout");
  cmd.add_flag("--dry-run", o.dry_run, "print the planned API calls (secrets redacted) and send nothing");
  cmd.add_flag("--direct", o.direct, "go straight to the upstream even when a proxy is running");
  cmd.add_option("--timeout", o.timeout_s, "seconds for the whole command (default 30)")->check(CLI::Range(1.0, 3600.0));
}

std::optional<AdminContext> prepare_admin(const AdminOptions& o, const config::Env& env, std::string_view command,
                                          std::ostream& err, int& exit_code) {
  // The admin secret, its token and the values handled are in memory from here on: no core dump,
  // and no other process of this user reads them through /proc.
  harden_process();
  exit_code = exit_usage;
  auto loaded = config::load(o.flags, env);
  if (!loaded.config) {
    err << "vault-proxy " << command << ": configuration error\n" << config::format_issues(loaded.issues);
    return std::nullopt;
  }
  AdminContext ctx;
  ctx.cfg = *loaded.config;
  ctx.project_id = o.project.value_or(env("INFISICAL_PROJECT_ID").value_or(""));
  if (ctx.project_id.empty()) {
    err << "vault-proxy " << command << ": no project: pass --project ID or set INFISICAL_PROJECT_ID\n";
    return std::nullopt;
  }
  auto admin = config::load_credentials(env, config::admin_names());
  if (!admin.token) {
    err << "vault-proxy " << command << ": the admin identity's credentials are needed: "
        << (admin.none_configured ? "set INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET (or their _FILE variants, "
                                    "or $CREDENTIALS_DIRECTORY/infisical-client-id and -secret)\n"
                                  : "\n" + config::format_issues(admin.issues));
    return std::nullopt;
  }
  ctx.admin = std::move(*admin.token);
  std::string note;
  std::optional<infisical::Endpoint> proxy;
  if (!o.direct) proxy = running_proxy(ctx.cfg, env, note);
  try {
    ctx.endpoint = proxy ? std::move(*proxy) : direct_endpoint(ctx.cfg, env, note);
  } catch (const std::exception& e) {
    err << "vault-proxy " << command << ": " << e.what() << "\n";
    return std::nullopt;
  }
  if (!note.empty()) err << "vault-proxy " << command << ": note: " << note << "\n";
  ctx.route = proxy ? "the proxy on " + ctx.endpoint.url() : ctx.endpoint.url() + " directly";
  ctx.deadline = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(static_cast<long long>(std::llround(o.timeout_s * 1000.0)));
  exit_code = exit_ok;
  return ctx;
}

int run_coroutine(const std::function<net::awaitable<int>(net::any_io_executor)>& fn) {
  net::io_context ioc;
  int rc = exit_failure;
  std::exception_ptr failure;
  net::co_spawn(ioc, fn(ioc.get_executor()), [&](std::exception_ptr e, int r) {
    failure = e;
    rc = r;
  });
  ioc.run();
  if (failure) std::rethrow_exception(failure);
  return rc;
}

int with_admin_session(const AdminContext& ctx, std::string_view command, std::ostream& err, const AdminBody& body) {
  return run_coroutine([&](net::any_io_executor ex) -> net::awaitable<int> {
    infisical::Client client(ex, ctx.endpoint);
    auto login = co_await client.login(ctx.admin.client_id, ctx.admin.client_secret, ctx.deadline);
    if (!login.access_token) {
      err << fmt::format("vault-proxy {}: the admin login through {} failed: {}{}\n", command, ctx.route,
                         login.reply.ok() ? fmt::format("{} {}", login.reply.status, login.message) : login.reply.error,
                         login.locked ? " (the admin identity is locked after wrong secrets; wait, then check "
                                        "INFISICAL_CLIENT_SECRET)"
                                      : "");
      co_return exit_failure;
    }
    int rc = exit_failure;
    std::exception_ptr failure;
    try {
      rc = co_await body(client, *login.access_token);
    } catch (...) {
      failure = std::current_exception();
    }
    // Revoked whatever happened: an admin token left valid is a credential lying around.
    if (!co_await client.revoke(*login.access_token, ctx.deadline + 5s))
      err << fmt::format("vault-proxy {}: warning: the admin access token could not be revoked; it expires on its "
                         "own after its TTL\n",
                         command);
    if (failure) std::rethrow_exception(failure);
    co_return rc;
  });
}

void Plan::wrap_in_session() {
  calls.insert(calls.begin(), {"POST", "/api/v1/auth/universal-auth/login",
                               "admin login: {clientId: <redacted>, clientSecret: <redacted>}"});
  calls.push_back({"POST", "/api/v1/auth/token/revoke", "revoke the admin token: {accessToken: <redacted>}"});
}

void Plan::print(std::ostream& out, bool as_json, const std::string& route) const {
  if (as_json) {
    json j{{"dry_run", true}, {"route", route}, {"calls", json::array()}};
    for (auto& c : calls) j["calls"].push_back({{"method", c.method}, {"target", c.target}, {"note", c.note}});
    out << j.dump(2) << "\n";
    return;
  }
  out << "dry run: nothing is sent. Planned calls through " << route << ":\n";
  for (std::size_t i = 0; i < calls.size(); ++i)
    out << fmt::format("  {:>2}. {:<6} {}{}\n", i + 1, calls[i].method, calls[i].target,
                       calls[i].note.empty() ? "" : "  (" + calls[i].note + ")");
}

int run_admin_command(const AdminOptions& o, const config::Env& env, std::string_view command,
                      const std::string& usage_problem, const std::function<void(Plan&)>& plan,
                      const std::function<net::awaitable<int>(const AdminContext&, infisical::Client&,
                                                              const core::Secret&)>& body) {
  if (!usage_problem.empty()) {
    std::cerr << "vault-proxy " << command << ": " << usage_problem << "\n";
    return exit_usage;
  }
  int rc = exit_ok;
  auto ctx = prepare_admin(o, env, command, std::cerr, rc);
  if (!ctx) return rc;
  if (o.dry_run) {
    Plan p;
    plan(p);
    p.wrap_in_session();
    p.print(std::cout, o.json, ctx->route);
    return exit_ok;
  }
  return with_admin_session(*ctx, command, std::cerr, [&](infisical::Client& c, const core::Secret& token) {
    return body(*ctx, c, token);
  });
}

std::string key_prefix_of(std::string_view name) {
  std::string out;
  for (char ch : name) {
    auto c = static_cast<unsigned char>(ch);
    out += std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '_';
  }
  return out;
}

}  // namespace vp::cli
