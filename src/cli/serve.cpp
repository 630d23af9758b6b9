#include "cli/serve.hpp"

#include "cli/exit_codes.hpp"
#include "cli/hardening.hpp"
#include "cli/logging.hpp"
#include "cli/runtime_state.hpp"
#include "config/credentials.hpp"
#include "config/settings.hpp"
#include "core/authority.hpp"
#include "core/redact.hpp"
#include "net/asio.hpp"
#include "proxy/server.hpp"
#include "sys/files.hpp"

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

// The capability token goes to a file only its owner can read: O_NOFOLLOW so a planted symlink
// cannot redirect it, mode 0600 from creation.
std::string write_capability_file(const config::Config& cfg, const config::Env& env,
                                  std::uint16_t port, const std::string& token) {
  std::string path;
  if (cfg.capability_file) {
    path = *cfg.capability_file;
  } else {
    auto dir = state_dir(env);
    ensure_state_dir(dir);
    path = dir + "/capability-" + std::to_string(port);
  }
  // A new inode, owner-only from its creation, renamed into place: a file planted at the path (or
  // held open by someone since an earlier run) never receives the token, and a symlink or another
  // user's file there is refused rather than followed or replaced.
  try {
    sys::write_file_atomic(path, token + "\n", 0600);
  } catch (const sys::FileError& e) {
    throw std::runtime_error(fmt::format("cannot write the capability file: {}", e.what()));
  }
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

/// SIGHUP's share beyond the token: the settings that need no new listener (log format and level).
void reload_settings(const ServeOptions& options, const config::Env& env) {
  auto loaded = config::load(options.flags, env);
  if (!loaded.config) {
    spdlog::warn("SIGHUP: the configuration now has errors, so the running settings stay: {}",
                 config::format_issues(loaded.issues));
    return;
  }
  setup_logging(loaded.config->log_format, loaded.config->log_level);
  spdlog::info("SIGHUP: log format {}, level {}", loaded.config->log_format == config::LogFormat::json ? "json" : "text",
               loaded.config->log_level);
}

std::string listen_url(const std::string& listen, std::uint16_t port) {
  return "http://" + core::host_port(listen, port);
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
  const config::Config& cfg = *loaded.config;
  if (!is_loopback(cfg.listen) && !options.flags.unsafe_listen && !cfg.unsafe_listen) {
    std::cerr << "vault-proxy: refusing to listen on " << cfg.listen
              << ": it is not a loopback address, and anyone who can reach the proxy can read the vault "
                 "with its service token.\n  fix: use 127.0.0.1 or ::1 (VAULT_PROXY_LISTEN / --listen), "
                 "or pass --unsafe-listen if another host really must reach it.\n";
    return exit_usage;
  }
  setup_logging(cfg.log_format, cfg.log_level);

  core::CredentialStore store;
  const auto initial = load_initial_token(env, store);
  if (initial.exit_code) return *initial.exit_code;
  // Taken before --scrub-env removes them: reloads read the same files.
  const config::Env reload_env = config::credential_file_env(env);
  if (options.scrub_env) scrub_credential_env();

  try {
    proxy::Server server(cfg, store);
    server.bind();
    for (const auto& problem : server.enable_reload(reload_env, [&options, &env] { reload_settings(options, env); }))
      spdlog::warn("{}", problem);
    std::string where = cfg.upstream.url();
    if (cfg.connect_to) where += fmt::format(" (dialing {}:{})", cfg.connect_to->host, cfg.connect_to->port);
    // The capability and pid files are written before the "listening on" line, which supervisors
    // (and `vault-proxy run`) take as the sign that the proxy is ready to use.
    std::string capability_path;
    if (!server.capability().empty()) {
      core::RedactionSet::global().add(server.capability());
      capability_path = write_capability_file(cfg, env, server.port(), server.capability());
    }
    if (cfg.pid_file) write_pid_file(*cfg.pid_file);
    spdlog::info("vault-proxy {} listening on {}, forwarding to {}", vp::version,
                 listen_url(cfg.listen, server.port()), where);
    if (cfg.unix_socket) spdlog::info("also listening on unix:{}", *cfg.unix_socket);
    if (!capability_path.empty())
      spdlog::info("capability prefix required; the URL path prefix is in {}", capability_path);
    if (auto tok = store.current()) {
      spdlog::info("service token loaded from {} (fingerprint {})", tok->source, tok->fingerprint());
    } else if (!initial.missing_files.empty()) {
      spdlog::warn("the service token file(s) {} do not exist yet: until they appear (they are watched; SIGHUP "
                   "also reloads), every proxied request gets 503 credentials_missing and /__vault-proxy/ready "
                   "answers 503",
                   fmt::join(initial.missing_files, ", "));
    } else {
      spdlog::warn(
          "no Cloudflare Access service token: set CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET "
          "(or CF_ACCESS_CLIENT_ID_FILE / CF_ACCESS_CLIENT_SECRET_FILE, or $CREDENTIALS_DIRECTORY). "
          "Until then every proxied request gets 503 credentials_missing; /__vault-proxy/health still answers.");
    }
    RuntimeStateGuard runtime_state(env, server.port(), cfg.listen, cfg.upstream.url(), capability_path);
    server.run();
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
