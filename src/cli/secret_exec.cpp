// `vault-proxy secret exec`: the runbook's "Session start" step 3 (a chain of curl and python pipes
// that exported the MCP identity's credentials) as one command. The values go from the vault's
// answer into the command's environment block and nowhere else: not argv, not a file, not output.

#include "cli/exit_codes.hpp"
#include "cli/secret_cmd.hpp"
#include "config/credentials.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <set>

extern char** environ;

namespace vp::cli {
namespace {

std::atomic<pid_t> g_child{0};

/// Passes on a signal sent to this process alone; a terminal's Ctrl-C (SI_KERNEL) already reached
/// the command through the process group.
void forward(int sig, siginfo_t* info, void*) {
  const pid_t child = g_child.load();
  if (child > 0 && (info == nullptr || info->si_code != SI_KERNEL)) ::kill(child, sig);
}

/// The command's environment: ours without the admin credentials, plus one VAR=value per binding.
/// The strings holding values are wiped by the caller once the command is started.
std::vector<std::string> command_env(const std::vector<ExecBinding>& b, const std::vector<core::Secret>& values) {
  std::set<std::string> drop;
  for (const auto* h : {&config::admin_names().id, &config::admin_names().secret}) {
    drop.emplace(h->env);
    drop.emplace(h->file_env);
  }
  for (auto& x : b) drop.insert(x.var);
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (!drop.count(std::string(kv.substr(0, kv.find('='))))) out.emplace_back(kv);
  }
  for (std::size_t i = 0; i < b.size(); ++i) out.push_back(b[i].var + "=" + std::string(values[i].reveal()));
  return out;
}

int spawn_and_wait(const std::vector<std::string>& command, std::vector<std::string>& env) {
  std::vector<char*> envp, argv;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = command;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0].c_str(), nullptr, nullptr, argv.data(), envp.data());
  for (auto& s : env) core::wipe(s);
  if (rc != 0) {
    std::cerr << fmt::format("vault-proxy secret exec: cannot run '{}': {}\n", args[0], std::strerror(rc));
    return rc == ENOENT ? 127 : 126;
  }
  g_child.store(pid);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return exit_failure;
  g_child.store(0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return exit_failure;
}

}  // namespace

std::optional<ExecBinding> parse_binding(std::string_view text, std::string& problem) {
  auto eq = text.find('=');
  auto at = text.find('@', eq == std::string_view::npos ? 0 : eq);
  if (eq == std::string_view::npos || at == std::string_view::npos) {
    problem = fmt::format("--set '{}' is not VAR=NAME@PATH", text);
    return std::nullopt;
  }
  ExecBinding b{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1, at - eq - 1)),
                std::string(text.substr(at + 1))};
  bool var_ok = !b.var.empty() && !std::isdigit(static_cast<unsigned char>(b.var[0]));
  for (char c : b.var) var_ok = var_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!var_ok) problem = fmt::format("--set '{}': '{}' is not a variable name", text, b.var);
  else if (auto p = key_problem(b.key); !p.empty()) problem = "--set '" + std::string(text) + "': " + p;
  else if (auto q = path_problem(b.path); !q.empty()) problem = "--set '" + std::string(text) + "': " + q;
  if (!problem.empty()) return std::nullopt;
  return b;
}

void add_secret_exec(CLI::App& secret, int& exit_code) {
  auto o = std::make_shared<SecretExecOptions>();
  auto* cmd = secret.add_subcommand(
      "exec", "Read secrets from the vault and run a command with them in its environment (no shell); exits with "
              "the command's status. Values are never printed nor written");
  // One value per --set: a greedy vector option would swallow the `--` before the command.
  cmd->add_option("--set", o->sets, "VAR=NAME@PATH: put secret NAME of folder PATH into $VAR (repeatable)")
      ->required()
      ->allow_extra_args(false);
  add_admin_options(*cmd, o->admin);
  // allow_extra_args: under a nested subcommand, CLI11 would otherwise hand the command's own
  // options (`sh -c ...`) back to the option parser once one word of the command was taken.
  cmd->add_option("command", o->command, "the command and its arguments, after --")->required()->allow_extra_args();
  cmd->footer("Example: vault-proxy secret exec --set INFISICAL_MCP_CLIENT_SECRET=MCP_RO_CLIENT_SECRET@/MooseQuest/"
              "identities/NAME -- vault-proxy run -- claude\nThe admin credentials are removed from the command's "
              "environment. Exit status: the command's (128+N if killed by signal N), 127 not found, 126 not "
              "executable, 1 a secret could not be read (nothing was run), 2 usage, configuration or credentials.");
  cmd->callback([o, &exit_code] { exit_code = run_secret_exec(*o, config::process_env()); });
}

int run_secret_exec(const SecretExecOptions& o, const config::Env& env) {
  constexpr std::string_view name = "secret exec";
  std::vector<ExecBinding> bindings;
  for (auto& s : o.sets) {
    std::string problem;
    auto b = parse_binding(s, problem);
    if (!b) {
      std::cerr << "vault-proxy secret exec: " << problem << "\n";
      return exit_usage;
    }
    bindings.push_back(std::move(*b));
  }
  int rc = exit_ok;
  auto ctx = prepare_admin(o.admin, env, name, std::cerr, rc);
  if (!ctx) return rc;
  if (o.admin.dry_run) {
    Plan plan;
    for (auto& b : bindings)
      plan.add("GET", "/api/v3/secrets/raw/" + b.key + "?secretPath=" + b.path, "into $" + b.var + " (value not shown)");
    plan.wrap_in_session();
    plan.add("exec", o.command.empty() ? "" : o.command.front(), "with those variables in its environment");
    plan.print(std::cout, o.admin.json, ctx->route);
    return exit_ok;
  }
  std::vector<core::Secret> values;
  rc = with_admin_session(*ctx, name, std::cerr, [&](infisical::Client& c, const core::Secret& token) -> net::awaitable<int> {
    for (auto& b : bindings) {
      const infisical::SecretQuery q{ctx->project_id, o.admin.environment, b.path, b.key};
      auto r = co_await c.get_secret(token, q, ctx->deadline);
      if (!r.value) {
        auto e = infisical::api_error(r.reply);
        std::cerr << fmt::format("vault-proxy secret exec: reading {}@{} for ${} failed: {}; nothing was run\n", b.key,
                                 b.path, b.var,
                                 !r.reply.ok() ? r.reply.error
                                               : fmt::format("{} {}", r.reply.status, e ? e->message : std::string()));
        co_return exit_failure;
      }
      values.push_back(std::move(*r.value));
    }
    co_return exit_ok;
  });
  if (rc != exit_ok) return rc;
  auto child_env = command_env(bindings, values);
  for (auto& v : values) v.clear();
  return spawn_and_wait(o.command, child_env);
}

}  // namespace vp::cli
