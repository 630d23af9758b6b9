#include "cli/doctor.hpp"

#include "cli/doctor_checks.hpp"
#include "cli/exit_codes.hpp"
#include "cli/project_root.hpp"
#include "cli/serve.hpp"
#include "config/credentials.hpp"

#include <chrono>
#include <cmath>
#include <iostream>

namespace vp::cli {

void add_doctor(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DoctorOptions>();
  auto* cmd = app.add_subcommand(
      "doctor",
      "Diagnose the vault path in the runbook's order: listener, health, upstream TLS, Cloudflare "
      "Access, Infisical, identity login, secret reads, .mcp.json");
  add_config_flags(*cmd, o->flags);
  auto opt = [&](const char* name, std::optional<std::string>& target, const char* help) {
    cmd->add_option_function<std::string>(name, [&target](const std::string& v) { target = v; }, help);
  };
  cmd->add_flag("--json", o->json, "print the report as JSON");
  cmd->add_option("--timeout", o->timeout_s, "overall time budget for all checks, in seconds (default 20)")
      ->check(CLI::Range(0.1, 600.0));
  cmd->add_option("--client-id-var", o->client_id_var,
                  "environment variable holding the identity's universal-auth client ID "
                  "(default INFISICAL_MCP_CLIENT_ID)");
  cmd->add_option("--client-secret-var", o->client_secret_var,
                  "environment variable holding the identity's client secret (default "
                  "INFISICAL_MCP_CLIENT_SECRET); never pass the secret itself");
  opt("--project-id", o->project_id, "Infisical project ID for the secret reads");
  opt("--environment", o->environment, "environment slug for the secret reads, e.g. prod");
  opt("--in-scope-path", o->in_scope_path, "a secret path the identity may read, e.g. /MooseQuest/");
  opt("--key", o->key, "a secret key that exists at --in-scope-path (its value is never printed)");
  opt("--out-of-scope-path", o->out_of_scope_path, "a path the identity must NOT read (403 expected)");
  cmd->add_option("--mcp-json", o->mcp_json,
                  ".mcp.json to check (default: .mcp.json at the repository root, or in the current directory "
                  "outside a repository)");
  cmd->add_flag("--require-mcp-json", o->require_mcp_json,
                "fail when .mcp.json is missing (by default a missing file is a warning: before runbook step 4 "
                "it is expected)");
  cmd->add_option("--cert-warn-days", o->cert_warn_days,
                  "warn when the upstream certificate expires within this many days (default 14)")
      ->check(CLI::Range(0, 3650));
  cmd->footer(
      "Exit codes: 0 no check failed (warnings and skips allowed), 1 a check failed, 2 usage or "
      "configuration error. The identity login is tried once at most and only when both identity "
      "variables are set. Secret values are never printed.");
  cmd->callback([o, &exit_code] {
    exit_code = run_doctor(*o, config::process_env(), std::cout, std::cerr);
  });
}

int run_doctor(const DoctorOptions& options, const config::Env& env, std::ostream& out, std::ostream& err) {
  auto loaded = config::load(options.flags, env);
  if (!loaded.config) {
    err << "vault-proxy doctor: configuration error\n" << config::format_issues(loaded.issues)
        << "See docs/configuration.md.\n";
    return exit_usage;
  }
  doctor::Inputs in;
  in.cfg = *loaded.config;
  in.credentials = config::load_credentials(env);
  in.client_id_var = options.client_id_var;
  in.client_secret_var = options.client_secret_var;
  if (auto v = env(options.client_id_var); v && !v->empty()) in.identity_client_id.emplace(std::move(*v));
  if (auto v = env(options.client_secret_var); v && !v->empty()) in.identity_client_secret.emplace(std::move(*v));
  in.reads = {options.project_id, options.environment, options.in_scope_path, options.key,
              options.out_of_scope_path};
  const auto root = current_project_root();
  in.mcp_json.path = default_mcp_json(options.mcp_json, root);
  in.mcp_json.shown_as = describe_mcp_json(in.mcp_json.path, root, !options.mcp_json.empty());
  in.mcp_json.required = options.require_mcp_json;
  in.env = env;
  in.budget = std::chrono::milliseconds(static_cast<long long>(std::llround(options.timeout_s * 1000.0)));
  in.cert_warn_days = options.cert_warn_days;

  auto report = doctor::run_checks(in);
  out << (options.json ? doctor::render_json(report) : doctor::render_table(report));
  out.flush();
  return report.ok() ? exit_ok : exit_failure;
}

}  // namespace vp::cli
