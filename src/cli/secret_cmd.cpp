#include "cli/secret_cmd.hpp"

#include "cli/exit_codes.hpp"
#include "infisical/admin.hpp"
#include "sys/files.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <iostream>

namespace vp::cli {
namespace {

using json = nlohmann::json;

/// Values above this are refused: a secret is a line or a key file, not a log.
constexpr std::size_t max_value_bytes = 64 * 1024;

/// One trailing "\n" or "\r\n" is dropped: `echo` and editors add it, and Infisical would keep it.
void strip_one_newline(std::string& v) {
  if (v.size() >= 2 && v[v.size() - 2] == '\r' && v.back() == '\n') v.resize(v.size() - 2);
  else if (!v.empty() && v.back() == '\n') v.pop_back();
}

std::optional<std::string> read_stdin(std::string& problem) {
  std::string out;
  out.reserve(max_value_bytes + 1);
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      problem = "reading stdin failed: " + sys::errno_text(errno);
      core::wipe(out);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_value_bytes) break;
  }
  ::explicit_bzero(buf, sizeof buf);
  return out;
}

/// The value from its one source; nullopt with `problem` set (never containing the value).
std::optional<core::Secret> read_value(const ValueSource& s, const config::Env& env, std::string& problem) {
  std::optional<std::string> text;
  if (s.env_var) {
    text = env(*s.env_var);
    if (!text) problem = "$" + *s.env_var + " is not set";
  } else if (s.file) {
    auto expect = sys::any_owner();
    expect.max_bytes = max_value_bytes;
    auto r = sys::read_file(*s.file, expect);
    text = std::move(r.content);
    if (!text) problem = r.problem;
    else strip_one_newline(*text);
  } else {
    text = read_stdin(problem);
    if (text) strip_one_newline(*text);
  }
  if (!text) return std::nullopt;
  if (text->size() > max_value_bytes) problem = "the value is larger than 64 KiB";
  if (text->empty()) problem = "the value is empty";
  if (!problem.empty()) {
    core::wipe(*text);
    return std::nullopt;
  }
  return core::Secret(std::move(*text));
}

int usage(std::string_view command, const std::string& problem) {
  std::cerr << "vault-proxy " << command << ": " << problem << "\n";
  return exit_usage;
}

void plan_folders(Plan& plan, const infisical::SecretPlace& place) {
  std::string parent = "/";
  const std::string full = infisical::normal_path(place.path);
  std::size_t i = 1;
  while (i < full.size()) {
    auto end = full.find('/', i);
    if (end == std::string::npos) end = full.size();
    plan.add("GET", "/api/v1/folders?path=" + parent, "does '" + full.substr(i, end - i) + "' exist?");
    plan.add("POST", "/api/v1/folders", "only if missing: create " + full.substr(0, end));
    parent = full.substr(0, end);
    i = end + 1;
  }
}

void print_stored(const infisical::Written& w, const infisical::SecretPlace& place,
                  const std::vector<std::string>& folders, bool as_json) {
  if (as_json) {
    std::cout << json{{"stored", {{"key", w.key}, {"version", w.version}, {"created", w.created},
                                  {"path", place.path}, {"environment", place.environment}}},
                      {"folders_created", folders}}
                     .dump(2)
              << "\n";
    return;
  }
  for (auto& f : folders) std::cout << "created folder: " << f << "\n";
  std::cout << fmt::format("stored: {} v{}\n", w.key, w.version);
}

}  // namespace

std::string key_problem(std::string_view key) {
  if (key.empty()) return "the secret name is empty";
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.')
      return fmt::format("the secret name '{}' may hold only letters, digits, '_', '-' and '.'", key);
  }
  return {};
}

std::string path_problem(std::string_view path) {
  if (path.empty() || path.front() != '/') return fmt::format("the path '{}' must start with '/'", path);
  for (char ch : path) {
    auto c = static_cast<unsigned char>(ch);
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '/')
      return fmt::format("the path '{}' may hold only folder names of letters, digits, '-' and '_'", path);
  }
  return {};
}

void add_secret(CLI::App& app, int& exit_code) {
  auto* secret = app.add_subcommand("secret", "Store a secret in the vault, or run a command with secrets from it");
  secret->require_subcommand(1);
  auto o = std::make_shared<SecretSetOptions>();
  auto* set = secret->add_subcommand(
      "set", "Create or update a secret (creating missing folders), reading its value from an environment variable, "
             "a file or stdin; prints the key and version, never the value");
  set->add_option("name", o->name, "the secret's key, e.g. MCP_RO_CLIENT_SECRET")->required();
  set->add_option("--path", o->path, "the folder, e.g. /MooseQuest/identities/NAME")->required();
  auto* from_env = set->add_option_function<std::string>(
      "--from-env", [o](const std::string& v) { o->source.env_var = v; }, "read the value from this variable");
  auto* from_file = set->add_option_function<std::string>(
      "--from-file", [o](const std::string& v) { o->source.file = v; }, "read the value from this file");
  auto* from_stdin = set->add_flag("--stdin", o->source.stdin_, "read the value from stdin");
  from_env->excludes(from_file)->excludes(from_stdin);
  from_file->excludes(from_stdin);
  add_admin_options(*set, o->admin);
  set->footer("One trailing newline of a file or stdin is dropped. Exit codes: 0 stored, 1 the vault refused or "
              "could not be reached, 2 usage, configuration or credentials. See docs/identities.md.");
  set->callback([o, &exit_code] { exit_code = run_secret_set(*o, config::process_env()); });
  add_secret_exec(*secret, exit_code);
}

int run_secret_set(const SecretSetOptions& o, const config::Env& env) {
  constexpr std::string_view cmd = "secret set";
  if (auto p = key_problem(o.name); !p.empty()) return usage(cmd, p);
  if (auto p = path_problem(o.path); !p.empty()) return usage(cmd, p);
  if (!o.source.env_var && !o.source.file && !o.source.stdin_)
    return usage(cmd, "say where the value comes from: --from-env VAR, --from-file FILE or --stdin");
  int rc = exit_ok;
  auto ctx = prepare_admin(o.admin, env, cmd, std::cerr, rc);
  if (!ctx) return rc;
  std::string problem;
  auto value = read_value(o.source, env, problem);
  if (!value) return usage(cmd, "cannot read the value: " + problem);
  const infisical::SecretPlace place{ctx->project_id, o.admin.environment, infisical::normal_path(o.path)};
  if (o.admin.dry_run) {
    Plan plan;
    plan_folders(plan, place);
    plan.add("GET", "/api/v3/secrets/raw/" + o.name, "does it exist? (viewSecretValue=false)");
    plan.add("POST|PATCH", "/api/v3/secrets/raw/" + o.name,
             fmt::format("create, or update if it exists: secretValue <redacted len={}>", value->size()));
    plan.wrap_in_session();
    plan.print(std::cout, o.admin.json, ctx->route);
    return exit_ok;
  }
  return with_admin_session(*ctx, cmd, std::cerr, [&](infisical::Client& c, const core::Secret& token) -> net::awaitable<int> {
    infisical::Admin admin(c, token);
    std::vector<std::string> folders;
    auto made = co_await admin.ensure_folders(place, folders, ctx->deadline);
    if (!made.ok) {
      std::cerr << "vault-proxy secret set: creating the folders of " << place.path << " failed: " << made.problem
                << "\n";
      co_return exit_failure;
    }
    auto w = co_await admin.put_secret(place, o.name, *value, ctx->deadline);
    if (!w.outcome.ok) {
      std::cerr << "vault-proxy secret set: " << o.name << " was not stored: " << w.outcome.problem << "\n";
      co_return exit_failure;
    }
    print_stored(w, place, folders, o.admin.json);
    co_return exit_ok;
  });
}

}  // namespace vp::cli
