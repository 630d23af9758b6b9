#include "cli/serve.hpp"

#include "cli/audit_files.hpp"
#include "cli/exit_codes.hpp"
#include "cli/hardening.hpp"
#include "cli/logging.hpp"
#include "cli/runtime_state.hpp"
#include "config/credentials.hpp"
#include "config/policy_file.hpp"
#include "config/settings.hpp"
#include "infisical/token_keeper.hpp"
#include "net/token_slot.hpp"
#include "core/authority.hpp"
#include "core/redact.hpp"
#include "net/asio.hpp"
#include "proxy/server.hpp"
#include "sys/files.hpp"
#include "sys/systemd.hpp"

#include <spdlog/spdlog.h>
#include <vault_proxy/version.hpp>

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <utility>
#include <vector>
#include <unistd.h>

namespace vp::cli {

void add_config_flags(CLI::App& cmd, config::Flags& f) {
  cmd.add_option_function<std::string>(
      "-c," + std::string(config::config_flag), [&f](const std::string& v) { f.config_file = v; },
      "TOML config file (env " + std::string(config::config_env) + ")");
  for (const auto& s : config::settings()) {
    if (s.flag.empty()) continue;
    std::string names(s.flag);
    if (!s.short_flag.empty()) names = std::string(s.short_flag) + "," + names;
    cmd.add_option_function<std::string>(
        names, [&f, key = s.key](const std::string& v) { f.values.insert_or_assign(std::string(key), v); },
        config::flag_help(s));
  }
}

void add_serve(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Run the proxy in the foreground (Ctrl-C or SIGTERM drains and exits 0)");
  add_config_flags(*cmd, options->flags);
  cmd->add_flag("--unsafe-listen", options->flags.unsafe_listen,
                "allow a non-loopback listen address (anyone who reaches it can read the vault)");
  cmd->add_flag(
      "--auto-auth", options->auto_auth,
      "hold the machine identity (INFISICAL_MCP_CLIENT_ID / _SECRET) and its token; clients get a local "
      "placeholder (same as VAULT_PROXY_AUTO_AUTH=universal-auth; docs/auto-auth.md)");
  cmd->add_flag("--scrub-env", options->scrub_env,
                "unset CF_ACCESS_CLIENT_* variables after reading them, so child processes and "
                "/proc/<pid>/environ do not hold them");
  cmd->footer(
      "Credentials are read from CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET, their _FILE variants, "
      "or $CREDENTIALS_DIRECTORY; never from arguments.");
  cmd->callback([options, &exit_code] { exit_code = run_serve(*options, config::process_env()); });
}

namespace {

bool is_loopback(const std::string& listen) {
  error_code ec;
  auto a = net::ip::make_address(listen, ec);
  return !ec && a.is_loopback();
}

/// A secret the proxy hands to local clients goes to a file only its owner can read: `configured`,
/// or `<state dir>/<name>-<port>`. A new inode, owner-only from its creation, renamed into place: a
/// file planted at the path (or held open by someone since an earlier run) never receives it, and a
/// symlink or another user's file there is refused rather than followed or replaced.
std::string write_secret_file(const std::optional<std::string>& configured, const config::Env& env,
                              std::string_view name, std::uint16_t port, std::string_view value) {
  std::string path;
  if (configured) {
    path = *configured;
  } else {
    auto dir = state_dir(env);
    ensure_state_dir(dir);
    path = fmt::format("{}/{}-{}", dir, name, port);
  }
  std::string content(value);
  content += '\n';
  try {
    sys::write_file_atomic(path, content, 0600);
  } catch (const sys::FileError& e) {
    core::wipe(content);
    throw std::runtime_error(fmt::format("cannot write the {} file: {}", name, e.what()));
  }
  core::wipe(content);
  return path;
}

/// The pid file, by the same rules as the capability file (mode 0644: a pid is no secret).
void write_pid_file(const std::string& path) {
  try {
    sys::write_file_atomic(path, fmt::format("{}\n", ::getpid()), 0644);
  } catch (const sys::FileError& e) {
    throw std::runtime_error(fmt::format("cannot write the pid file: {}", e.what()));
  }
}

/// How reading the token at start went: an exit code, or the files still awaited.
struct InitialToken {
  std::optional<int> exit_code;
  std::vector<std::string> missing_files;
};

/// Reads the service token at start. A value that is there but bad, or only one half, is a
/// configuration error (exit 2); a configured file that does not exist yet is waited for.
InitialToken load_initial_token(const config::Env& env, core::CredentialStore& store) {
  auto creds = config::load_credentials(env);
  if (!creds.issues.empty() && !creds.only_missing_files()) {
    std::cerr << "vault-proxy: credential error\n" << config::format_issues(creds.issues);
    return {exit_usage, {}};
  }
  if (creds.token) {
    core::RedactionSet::global().add(creds.token->client_id.reveal());
    core::RedactionSet::global().add(creds.token->client_secret.reveal());
    creds.token->loaded_at = std::chrono::system_clock::now();
    store.replace(std::move(*creds.token));
  }
  return {std::nullopt, creds.missing_files};
}

/// Auto-auth's start: the identity's credentials (a configured file may appear later) and a new
/// placeholder. Nothing configured is an error: auto-auth without an identity cannot work.
std::optional<int> load_auto_auth(const config::Env& env, net_token::AutoAuth& auth) {
  auto creds = config::load_credentials(env, config::identity_names());
  if (creds.none_configured) {
    std::cerr << "vault-proxy: auto-auth is on, but no machine identity is configured\n"
                 "  fix: set INFISICAL_MCP_CLIENT_ID and INFISICAL_MCP_CLIENT_SECRET (or their _FILE variants, or "
                 "$CREDENTIALS_DIRECTORY/infisical-mcp-client-id and -secret), or turn auto-auth off\n";
    return exit_usage;
  }
  if (!creds.issues.empty() && !creds.only_missing_files()) {
    std::cerr << "vault-proxy: identity credential error (auto-auth)\n" << config::format_issues(creds.issues);
    return exit_usage;
  }
  if (creds.token) {
    core::RedactionSet::global().add(creds.token->client_id.reveal());
    core::RedactionSet::global().add(creds.token->client_secret.reveal());
    creds.token->loaded_at = std::chrono::system_clock::now();
    auth.identity.replace(std::move(*creds.token));
  }
  auth.local_token = net_token::make_local_token();
  core::RedactionSet::global().add(auth.local_token.reveal());
  return std::nullopt;
}

/// The start log's line about the service token: where it came from, or why there is none yet.
void log_service_token(const core::CredentialStore& store, const std::vector<std::string>& missing_files) {
  if (auto tok = store.current()) {
    spdlog::info("service token loaded from {} (fingerprint {})", tok->source, tok->fingerprint());
  } else if (!missing_files.empty()) {
    spdlog::warn("the service token file(s) {} do not exist yet: until they appear (they are watched; SIGHUP "
                 "also reloads), every proxied request gets 503 credentials_missing and /__vault-proxy/ready "
                 "answers 503",
                 fmt::join(missing_files, ", "));
  } else {
    spdlog::warn(
        "no Cloudflare Access service token: set CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET "
        "(or CF_ACCESS_CLIENT_ID_FILE / CF_ACCESS_CLIENT_SECRET_FILE, or $CREDENTIALS_DIRECTORY). "
        "Until then every proxied request gets 503 credentials_missing; /__vault-proxy/health still answers.");
  }
}

/// SIGHUP's share beyond the token: the settings that need no new listener (log format and level).
// The audit trail's writer, or null when audit_log is off. The default file's directory is created
// 0700 first; a file that cannot be written is counted, never fatal.
std::unique_ptr<sys::AppendLog> open_audit_log(const config::Config& cfg, const config::Env& env,
                                               const std::string& path) {
  if (path.empty()) return nullptr;
  if (!cfg.audit_log) ensure_state_dir(audit_dir(env));  // created 0700 and checked like the state directory
  sys::AppendLog::Options o;
  o.path = path;
  o.max_bytes = cfg.audit_log_max_bytes;
  o.keep = config::audit_log_keep;
  spdlog::info("audit trail: {}", path);
  return std::make_unique<sys::AppendLog>(std::move(o));
}

std::string policy_label(const std::shared_ptr<const core::Policy>& p) { return p ? "\"" + p->name + "\"" : "none"; }

void log_policies(const config::ListenerPolicies& p, const config::Config& cfg) {
  if (!p.tcp && !p.unix_socket) return;
  if (cfg.unix_socket && p.unix_socket != p.tcp)
    spdlog::info("local policy: {} on TCP, {} on the Unix socket", policy_label(p.tcp), policy_label(p.unix_socket));
  else
    spdlog::info("local policy: {}", policy_label(p.tcp));
}

// SIGHUP: the log settings and the local policies. A configuration or policy with errors leaves the
// running one in place.
void reload_settings(const ServeOptions& options, const config::Env& env, proxy::Server& server) {
  auto loaded = config::load(options.flags, env);
  if (!loaded.config) {
    spdlog::warn("SIGHUP: the configuration now has errors, so the running settings stay: {}",
                 config::format_issues(loaded.issues));
    return;
  }
  setup_logging(loaded.config->log_format, loaded.config->log_level);
  spdlog::info("SIGHUP: log format {}, level {}", loaded.config->log_format == config::LogFormat::json ? "json" : "text",
               loaded.config->log_level);
  auto policies = config::load_listener_policies(*loaded.config);
  if (!policies.issues.empty()) {
    spdlog::error("SIGHUP: the local policy has errors, so the running policy stays: {}",
                  config::format_issues(policies.issues));
    return;
  }
  server.set_policies(policies.tcp, policies.unix_socket);
  log_policies(policies, *loaded.config);
}

std::string listen_url(const std::string& listen, std::uint16_t port) {
  return "http://" + core::host_port(listen, port);
}

/// Binds the listener, or with socket activation (LISTEN_FDS) takes the first socket systemd
/// passed, under the same loopback rule.
void listen(proxy::Server& server, const config::Config& cfg, bool unsafe_listen) {
  auto fds = sys::take_listen_fds();
  if (fds.empty()) return server.bind();
  for (std::size_t i = 1; i < fds.size(); ++i) {
    spdlog::warn("systemd passed {} sockets; only the first is used, descriptor {} is closed", fds.size(), fds[i]);
    ::close(fds[i]);
  }
  server.adopt(fds.front(), unsafe_listen || cfg.unsafe_listen);
  spdlog::info("using the listening socket passed by systemd (socket activation)");
}

/// sd_notify: READY=1 once accepting with a service token, STOPPING=1 at the drain, and the
/// watchdog at half its interval; STATUS= carries one line about the proxy. Nothing without
/// $NOTIFY_SOCKET.
proxy::Lifecycle systemd_lifecycle(const std::string& url, const std::string& upstream, core::CredentialStore& store,
                                   const net_token::AutoAuth* auto_auth) {
  auto status = [url, upstream, &store, auto_auth] {
    auto tok = store.current();
    std::string line = fmt::format("serving {} for {}; service token {}", url, upstream,
                                   tok ? fmt::format("v{}", tok->version) : std::string("missing"));
    if (auto_auth) line += "; auto-auth " + auto_auth->token.status().state;
    return line;
  };
  auto send = [](const std::string& state) {
    std::string problem;
    if (!sys::notify(state, &problem) && !problem.empty()) spdlog::warn("sd_notify: {}", problem);
  };
  proxy::Lifecycle l;
  l.ready = [=] { send("READY=1\nSTATUS=" + status()); };
  l.stopping = [=] { send("STOPPING=1\nSTATUS=draining in-flight requests"); };
  if (auto wd = sys::watchdog_interval()) {
    l.tick = std::chrono::duration_cast<std::chrono::milliseconds>(*wd / 2);
    l.on_tick = [=] { send("WATCHDOG=1\nSTATUS=" + status()); };
  }
  return l;
}

}  // namespace

int run_serve(const ServeOptions& options, const config::Env& env) {
  // Keep credentials out of core dumps and away from ptrace by other processes of this user.
  harden_process();

  auto loaded = config::load(options.flags, env);
  if (!loaded.config) {
    std::cerr << "vault-proxy: configuration error\n" << config::format_issues(loaded.issues)
              << "See docs/configuration.md.\n";
    return exit_usage;
  }
  if (options.auto_auth) loaded.config->auto_auth = true;
  const config::Config& cfg = *loaded.config;
  if (!is_loopback(cfg.listen) && !options.flags.unsafe_listen && !cfg.unsafe_listen) {
    std::cerr << "vault-proxy: refusing to listen on " << cfg.listen
              << ": it is not a loopback address, and anyone who can reach the proxy can read the vault "
                 "with its service token.\n  fix: use 127.0.0.1 or ::1 (VAULT_PROXY_LISTEN / --listen), "
                 "or pass --unsafe-listen if another host really must reach it.\n";
    return exit_usage;
  }
  setup_logging(cfg.log_format, cfg.log_level);
  auto policies = config::load_listener_policies(cfg);
  if (!policies.issues.empty()) {
    std::cerr << "vault-proxy: policy error\n" << config::format_issues(policies.issues)
              << "See docs/guardrails.md.\n";
    return exit_usage;
  }

  core::CredentialStore store;
  const auto initial = load_initial_token(env, store);
  if (initial.exit_code) return *initial.exit_code;
  std::unique_ptr<net_token::AutoAuth> auto_auth;
  if (cfg.auto_auth) {
    auto_auth = std::make_unique<net_token::AutoAuth>();
    if (auto code = load_auto_auth(env, *auto_auth)) return *code;
  }
  // Taken before --scrub-env removes them: reloads read the same files.
  const config::Env reload_env = config::credential_file_env(env);
  if (options.scrub_env) scrub_credential_env();

  try {
    // Declared before the server, so that it outlives every request that may still queue a line.
    const auto audit_path = audit_log_path(cfg, env);
    auto audit = open_audit_log(cfg, env, audit_path);
    proxy::Server server(cfg, store, auto_auth.get());
    server.set_policies(policies.tcp, policies.unix_socket);
    if (audit) server.set_audit(audit.get(), audit_path);
    log_policies(policies, cfg);
    listen(server, cfg, options.flags.unsafe_listen);
    for (const auto& problem : server.enable_reload(reload_env, [&options, &env, &server] { reload_settings(options, env, server); }))
      spdlog::warn("{}", problem);
    std::string where = cfg.upstream.url();
    if (cfg.connect_to) where += fmt::format(" (dialing {}:{})", cfg.connect_to->host, cfg.connect_to->port);
    // The capability and pid files are written before the "listening on" line, which supervisors
    // (and `vault-proxy run`) take as the sign that the proxy is ready to use.
    std::string capability_path;
    if (!server.capability().empty()) {
      core::RedactionSet::global().add(server.capability());
      capability_path = write_secret_file(cfg.capability_file, env, "capability", server.port(), server.capability());
    }
    if (cfg.pid_file) write_pid_file(*cfg.pid_file);
    std::string local_token_path;
    std::optional<infisical::TokenKeeper> keeper;
    if (auto_auth) {
      // Written before the listener accepts (run() starts accepting).
      local_token_path =
          write_secret_file(cfg.local_token_file, env, "local-token", server.port(), auto_auth->local_token.reveal());
      keeper.emplace(cfg, store, *auto_auth);
      keeper->start();
      spdlog::info("auto-auth on: the local token is in {}; clients send it as 'Authorization: Bearer', or log in "
                   "with the identity's own credentials (docs/auto-auth.md)",
                   local_token_path);
    }
    const std::string url = listen_url(server.address(), server.port());
    server.set_lifecycle(systemd_lifecycle(url, cfg.upstream.url(), store, auto_auth.get()));
    spdlog::info("vault-proxy {} listening on {}, forwarding to {}", vp::version, url, where);
    if (cfg.unix_socket) spdlog::info("also listening on unix:{}", *cfg.unix_socket);
    if (!capability_path.empty())
      spdlog::info("capability prefix required; the URL path prefix is in {}", capability_path);
    log_service_token(store, initial.missing_files);
    RuntimeStateGuard runtime_state(env, server.port(), server.address(), cfg.upstream.url(), capability_path);
    server.run();
    if (keeper) keeper->stop();
    if (!local_token_path.empty()) std::filesystem::remove(local_token_path);
    if (cfg.pid_file) std::filesystem::remove(*cfg.pid_file);
    if (!capability_path.empty()) std::filesystem::remove(capability_path);
    spdlog::info("stopped");
  } catch (const proxy::ListenError& e) {
    spdlog::error("{}", e.what());
    return exit_listen;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return exit_failure;
  }
  core::RedactionSet::global().clear();
  return exit_ok;
}

}  // namespace vp::cli
