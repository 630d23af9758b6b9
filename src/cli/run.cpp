#include "cli/run.hpp"

#include "cli/audit_files.hpp"
#include "cli/exit_codes.hpp"
#include "cli/hardening.hpp"
#include "cli/runtime_state.hpp"
#include "config/credentials.hpp"
#include "net/http_client.hpp"
#include "sys/files.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

extern char** environ;

namespace vp::cli {

namespace {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::string_view loopback_hosts[] = {"localhost", "127.0.0.1", "::1"};

// The command's pid once started; a signal that arrives before then is parked in g_pending.
std::atomic<pid_t> g_command{0};
volatile sig_atomic_t g_pending = 0;

void on_signal(int sig, siginfo_t* info, void*) {
  const pid_t child = g_command.load();
  if (child <= 0) {
    g_pending = sig;
    return;
  }
  // A terminal's Ctrl-C / hangup (si_code SI_KERNEL) reaches the whole foreground process group,
  // the command included: forwarding it too would deliver it twice. Only signals sent to this
  // process alone (kill(2): SI_USER, sigqueue: SI_QUEUE) are passed on.
  if (info == nullptr || info->si_code != SI_KERNEL) ::kill(child, sig);
}

void install_handlers() {
  struct sigaction sa {};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

int status_to_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return exit_failure;
}

/// The proxy child's stderr, copied to the log while the first part is kept for the readiness line
/// and for the error report when it does not start.
struct LogRelay {
  int read_fd = -1;
  int log_fd = -1;
  std::mutex mu;
  std::condition_variable cv;
  std::string head;  ///< output up to readiness (bounded)
  bool closed = false;
  std::thread thread;

  void start() {
    thread = std::thread([this] {
      char buf[8192];
      for (;;) {
        ssize_t n = ::read(read_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        for (ssize_t off = 0; off < n;) {
          ssize_t w = ::write(log_fd, buf + off, static_cast<std::size_t>(n - off));
          if (w < 0 && errno == EINTR) continue;
          if (w <= 0) break;
          off += w;
        }
        {
          std::lock_guard lock(mu);
          if (head.size() < 256 * 1024) head.append(buf, static_cast<std::size_t>(n));
        }
        cv.notify_all();
      }
      {
        std::lock_guard lock(mu);
        closed = true;
      }
      cv.notify_all();
    });
  }
  void join() {
    if (thread.joinable()) thread.join();
    if (read_fd >= 0) ::close(read_fd);
    read_fd = -1;
  }
};

/// Parses `listening on http://ADDR:PORT` (docs/CONTRACT.md, "Readiness"); caller holds the lock.
bool parse_listening(const std::string& text, std::string& address, std::uint16_t& port) {
  static constexpr std::string_view marker = "listening on http://";
  auto pos = text.find(marker);
  if (pos == std::string::npos) return false;
  auto start = pos + marker.size();
  auto end = text.find_first_of(" \r\n\t\",", start);
  if (end == std::string::npos) return false;
  std::string hostport = text.substr(start, end - start);
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos) return false;
  address = hostport.substr(0, colon);
  if (address.size() > 2 && address.front() == '[') address = address.substr(1, address.size() - 2);
  auto p = parse_port(std::string_view(hostport).substr(colon + 1));
  if (!p || *p == 0) return false;
  port = *p;
  return true;
}

/// Warning and error lines the proxy printed before it was ready (text or JSON log format).
std::vector<std::string> warnings_in(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    if (line.find(" warning ") != std::string::npos || line.find(" error ") != std::string::npos ||
        line.find("\"level\":\"warning\"") != std::string::npos || line.find("\"level\":\"error\"") != std::string::npos)
      out.push_back(line);
    start = nl + 1;
  }
  return out;
}

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("/proc/self/exe") : p.string();
}

std::vector<std::string> environ_strings() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

/// Waits for `pid` (our child) until the deadline; the exit status, or nullopt.
std::optional<int> wait_child(pid_t pid, steady::time_point deadline) {
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (steady::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

/// SIGTERM, the serve drain grace, then SIGKILL.
void stop_proxy(pid_t pid) {
  ::kill(pid, SIGTERM);
  if (wait_child(pid, steady::now() + 15s)) return;
  std::cerr << fmt::format("vault-proxy run: the proxy (pid {}) did not exit 15s after SIGTERM; sent SIGKILL\n", pid);
  ::kill(pid, SIGKILL);
  wait_child(pid, steady::now() + 5s);
}

std::string append_loopback(const std::string& list) {
  std::set<std::string> have;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string item = list.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) have.insert(item);
    start = comma + 1;
  }
  std::string out = list;
  for (auto h : loopback_hosts)
    if (!have.count(std::string(h))) out += (out.empty() ? "" : ",") + std::string(h);
  return out;
}

}  // namespace

std::vector<std::string> child_environment(const std::vector<std::string>& base, const std::string& url,
                                           std::uint16_t port, bool keep_credentials, const core::Secret* local_token) {
  std::set<std::string> drop{"VAULT_PROXY_URL", "INFISICAL_HOST_URL", "VAULT_PROXY_PORT", "NO_PROXY", "no_proxy",
                             "VAULT_PROXY_LOCAL_TOKEN"};
  if (!keep_credentials)
    for (auto& n : config::credential_env_names()) drop.insert(n);
  std::vector<std::string> out;
  std::string no_proxy_upper, no_proxy_lower;
  for (auto& kv : base) {
    auto eq = kv.find('=');
    std::string name = kv.substr(0, eq);
    std::string value = eq == std::string::npos ? std::string() : kv.substr(eq + 1);
    if (name == "NO_PROXY") no_proxy_upper = value;
    if (name == "no_proxy") no_proxy_lower = value;
    if (!drop.count(name)) out.push_back(kv);
  }
  out.push_back("VAULT_PROXY_URL=" + url);
  out.push_back("INFISICAL_HOST_URL=" + url);
  out.push_back(fmt::format("VAULT_PROXY_PORT={}", port));
  out.push_back("NO_PROXY=" + append_loopback(no_proxy_upper));
  out.push_back("no_proxy=" + append_loopback(no_proxy_lower));
  if (local_token) out.push_back("VAULT_PROXY_LOCAL_TOKEN=" + std::string(local_token->reveal()));
  return out;
}

void add_run(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand(
      "run", "Start the proxy, run a command with VAULT_PROXY_URL and INFISICAL_HOST_URL pointing at it, stop the "
             "proxy when the command exits, and exit with the command's status");
  cmd->add_option_function<std::string>("-p,--port", [o](const std::string& v) { o->port = v; },
                                        "listen port, 0 = ephemeral (default: VAULT_PROXY_PORT, else 2019)");
  cmd->add_option_function<std::string>("-c,--config", [o](const std::string& v) { o->config_file = v; },
                                        "TOML config file for the proxy (env VAULT_PROXY_CONFIG)");
  cmd->add_option("--log-file", o->log_file,
                  "the proxy's log: a file, or - for stderr (default: <state dir>/run-<pid>.log)");
  cmd->add_option_function<double>(
         "--ready-timeout", [o](double s) { o->ready_timeout = std::chrono::milliseconds(static_cast<long long>(s * 1000)); },
         "seconds to wait for the proxy to answer /__vault-proxy/health (default 15)")
      ->check(CLI::Range(0.1, 600.0));
  cmd->add_flag("--auto-auth", o->auto_auth,
                "start the proxy with --auto-auth (it holds INFISICAL_MCP_CLIENT_ID / _SECRET) and give the command "
                "only VAULT_PROXY_LOCAL_TOKEN, the proxy's local placeholder (docs/auto-auth.md)");
  cmd->add_option_function<std::string>("--policy", [o](const std::string& v) { o->policy = v; },
                                        "the proxy's local policy: read-only, off, or a policy file (docs/guardrails.md)");
  cmd->add_flag("--keep-credential-env", o->keep_credential_env,
                "pass CF_ACCESS_CLIENT_* on to the command (by default only the proxy sees them)");
  cmd->add_option("command", o->command, "the command and its arguments, after --")->required();
  cmd->footer("Example: vault-proxy run --port 0 -- claude\n"
              "When the command exits, run prints on stderr what it read through the proxy, from the audit "
              "trail (nothing when audit_log is off; 'vault-proxy audit' shows more).\n"
              "Other settings (upstream, credentials, ...) come from the environment, as for serve. Exit status: "
              "the command's (128+N if killed by signal N), 127 command not found, 126 not executable, or the "
              "proxy's code (2 configuration, 3 cannot listen) when it does not start.");
  cmd->callback([o, &exit_code] { exit_code = run_run(*o, config::process_env()); });
}

namespace {

/// Everything one `run` holds while the proxy and the command live.
struct RunState {
  const RunOptions& o;
  const config::Env& env;
  std::string log_path;       ///< the proxy's log file ("" or "-": stderr)
  int log_fd = STDERR_FILENO;
  bool own_log = false;
  pid_t proxy_pid = -1;
  LogRelay relay;
  std::string head;           ///< the proxy's output up to readiness
  std::string address;        ///< from the readiness line
  std::uint16_t port = 0;
  std::string local_token_path;  ///< auto-auth: where the proxy writes its placeholder
  std::optional<core::Secret> local_token;

  int finish(int code) {
    relay.join();
    if (own_log) ::close(log_fd);
    return code;
  }
  void show_head() const {
    if (!own_log) return;
    std::cerr << "--- proxy output (" << log_path << ") ---\n" << head;
    if (!head.empty() && head.back() != '\n') std::cerr << "\n";
    std::cerr << "---\n";
  }
};

/// Opens the proxy's log: `--log-file`, or run-<pid>.log in the state directory; "-" is stderr.
std::optional<int> open_proxy_log(RunState& st) {
  st.log_path = st.o.log_file;
  if (st.log_path == "-") return std::nullopt;
  try {
    if (st.log_path.empty()) {
      const std::string dir = state_dir(st.env);
      ensure_state_dir(dir);
      st.log_path = (std::filesystem::path(dir) / fmt::format("run-{}.log", ::getpid())).string();
    }
    st.log_fd = sys::open_for_append(st.log_path, 0600);
  } catch (const sys::FileError& e) {
    std::cerr << fmt::format("vault-proxy run: cannot open the proxy log: {}; pass --log-file PATH (or "
                             "--log-file - for stderr)\n",
                             e.what());
    return exit_failure;
  } catch (const std::exception& e) {
    std::cerr << "vault-proxy run: " << e.what() << "; or pass --log-file PATH (or --log-file - for stderr)\n";
    return exit_failure;
  }
  st.own_log = true;
  return std::nullopt;
}

/// Starts `serve` of this very binary, in its own process group so that a Ctrl-C meant for the
/// command does not also drain the proxy under it. Its stderr goes through the relay.
std::optional<int> spawn_proxy(RunState& st) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    std::cerr << "vault-proxy run: pipe: " << std::strerror(errno) << "\n";
    return exit_failure;
  }
  const std::string exe = self_exe();
  // --scrub-env: the proxy is the command's sibling, and root reads any process's environ.
  std::vector<std::string> serve_args{exe, "serve", "--scrub-env"};
  if (st.o.port) serve_args.insert(serve_args.end(), {"--port", *st.o.port});
  if (st.o.config_file) serve_args.insert(serve_args.end(), {"--config", *st.o.config_file});
  if (st.o.policy) serve_args.insert(serve_args.end(), {"--policy", *st.o.policy});
  if (st.o.auto_auth) {
    // A path of this run's own, so that the command gets this proxy's placeholder, whatever port.
    const std::string dir = state_dir(st.env);
    ensure_state_dir(dir);
    st.local_token_path = fmt::format("{}/run-{}-local-token", dir, ::getpid());
    serve_args.insert(serve_args.end(), {"--auto-auth", "--local-token-file", st.local_token_path});
  }
  auto serve_argv = c_strings(serve_args);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, st.log_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, pipe_fds[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  int rc = ::posix_spawn(&st.proxy_pid, exe.c_str(), &fa, &attr, serve_argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    std::cerr << fmt::format("vault-proxy run: cannot start {} serve: {}\n", exe, std::strerror(rc));
    return exit_failure;
  }
  // posix_spawn returns once the proxy has exec'd with its own copy of the environment, so ours
  // no longer needs the credentials. Non-dumpable is not enough: root reads any environ.
  if (!st.o.keep_credential_env) scrub_credential_env();
  st.relay.read_fd = pipe_fds[0];
  st.relay.log_fd = st.log_fd;
  st.relay.start();
  return std::nullopt;
}

/// The proxy did not get ready: stops it if needed, shows its output, and picks the exit code.
int fail_start(RunState& st, const std::string& why) {
  std::optional<int> status = wait_child(st.proxy_pid, steady::now() + 100ms);
  if (!status) stop_proxy(st.proxy_pid);
  std::cerr << "vault-proxy run: " << why << "\n";
  st.show_head();
  if (status && WIFEXITED(*status) && WEXITSTATUS(*status) != 0) return st.finish(WEXITSTATUS(*status));
  return st.finish(exit_failure);
}

/// Waits for the readiness line, then for health 200; an exit code when the proxy never got there.
std::optional<int> wait_ready(RunState& st) {
  const auto deadline = steady::now() + st.o.ready_timeout;
  bool listening = false, closed = false;
  {
    std::unique_lock lock(st.relay.mu);
    while (!g_pending && steady::now() < deadline) {
      listening = parse_listening(st.relay.head, st.address, st.port);
      closed = st.relay.closed;
      if (listening || closed) break;
      st.relay.cv.wait_for(lock, 50ms);
    }
    st.head = st.relay.head;
  }
  if (g_pending) {
    stop_proxy(st.proxy_pid);
    return st.finish(128 + g_pending);
  }
  if (!listening) {
    auto status = wait_child(st.proxy_pid, steady::now() + (closed ? 2s : 0s));
    if (!status)
      return fail_start(st, fmt::format("the proxy did not report 'listening on' within {:.1f}s; nothing was run",
                                        std::chrono::duration<double>(st.o.ready_timeout).count()));
    std::cerr << fmt::format("vault-proxy run: the proxy did not start (exit {}); nothing was run\n",
                             status_to_code(*status));
    st.show_head();
    return st.finish(WIFEXITED(*status) && WEXITSTATUS(*status) != 0 ? WEXITSTATUS(*status) : exit_failure);
  }
  std::string last_error;
  while (!g_pending && steady::now() < deadline) {
    auto res = net_http::send_blocking(net_http::local_endpoint(connect_address(st.address), st.port),
                                       net_http::Request::get("/__vault-proxy/health"), 2s);
    if (res.ok() && res.status == 200) return std::nullopt;
    last_error = res.ok() ? fmt::format("health answered {}", res.status) : res.error;
    std::this_thread::sleep_for(20ms);
  }
  if (g_pending) {
    stop_proxy(st.proxy_pid);
    return st.finish(128 + g_pending);
  }
  return fail_start(st, fmt::format("the proxy on {} did not become healthy ({}); nothing was run",
                                    proxy_url(st.address, st.port), last_error));
}

/// Auto-auth: the placeholder the proxy wrote before it accepted, from a file that must be ours and
/// owner-only.
std::optional<int> read_local_token(RunState& st) {
  if (!st.o.auto_auth) return std::nullopt;
  auto expect = sys::owned_by_caller(S_IRWXG | S_IRWXO);
  expect.max_bytes = 4096;
  auto r = sys::read_file(st.local_token_path, expect);
  if (r.content && !r.content->empty() && r.content->back() == '\n') r.content->pop_back();
  if (!r.content || r.content->empty()) {
    return fail_start(st, fmt::format("the proxy's local token file is not usable ({}); nothing was run",
                                      r.problem.empty() ? "it is empty" : r.problem));
  }
  st.local_token.emplace(std::move(*r.content));
  return std::nullopt;
}

/// The URL the command gets: with --capability on, it carries the proxy's path prefix. Health
/// answering means the proxy is past the point where it records itself.
std::string command_url(RunState& st, const std::string& url) {
  std::string out = url;
  std::string dir_problem;
  for (auto& f : list_state_files(state_dir(st.env), st.port, dir_problem)) {
    if (!f.state || f.state->pid != st.proxy_pid) continue;
    std::string error;
    if (auto prefix = capability_prefix(*f.state, error)) out = url + *prefix;
    else std::cerr << "vault-proxy run: warning: " << error << "\n";
  }
  if (!dir_problem.empty()) std::cerr << "vault-proxy run: warning: " << dir_problem << "\n";
  return out;
}

/// Runs the command (no shell, our stdio, our process group: it keeps the terminal) and waits for
/// it; returns its exit code (128+N when killed by signal N).
int run_command(RunState& st, const std::string& url, const std::string& url_for_command) {
  auto env_strings = child_environment(environ_strings(), url_for_command, st.port, st.o.keep_credential_env,
                                       st.local_token ? &*st.local_token : nullptr);
  auto envp = c_strings(env_strings);
  std::vector<std::string> cmd_args = st.o.command;
  auto cmd_argv = c_strings(cmd_args);
  posix_spawnattr_t cattr;
  posix_spawnattr_init(&cattr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&cattr, &none);
  posix_spawnattr_setflags(&cattr, POSIX_SPAWN_SETSIGMASK);
  pid_t command_pid = -1;
  int rc = ::posix_spawnp(&command_pid, cmd_args[0].c_str(), nullptr, &cattr, cmd_argv.data(), envp.data());
  posix_spawnattr_destroy(&cattr);
  for (auto& kv : env_strings)
    if (kv.starts_with("VAULT_PROXY_LOCAL_TOKEN=")) core::wipe(kv);
  if (rc != 0) {
    std::cerr << fmt::format("vault-proxy run: cannot run '{}': {}\n", cmd_args[0], std::strerror(rc));
    stop_proxy(st.proxy_pid);
    return rc == ENOENT ? 127 : 126;
  }
  g_command.store(command_pid);
  if (int sig = g_pending; sig != 0) ::kill(command_pid, sig);
  bool proxy_reaped = false;
  int command_status = 0;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(-1, &status, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      std::cerr << "vault-proxy run: waitpid: " << std::strerror(errno) << "\n";
      command_status = -1;
      break;
    }
    if (r == command_pid) {
      command_status = status;
      break;
    }
    if (r == st.proxy_pid) {
      proxy_reaped = true;
      std::cerr << fmt::format("vault-proxy run: warning: the proxy exited (status {}) while the command runs; "
                               "requests to {} now fail{}\n",
                               status_to_code(status), url, st.own_log ? "; see " + st.log_path : std::string());
    }
  }
  g_command.store(0);
  if (!proxy_reaped) stop_proxy(st.proxy_pid);
  return command_status < 0 ? exit_failure : status_to_code(command_status);
}

/// What the command did through this run's proxy, from the audit trail. The proxy has exited by
/// now, and its writer drains the queue before it exits, so the file holds every record.
void report_session(const RunState& st, std::chrono::system_clock::time_point started) {
  try {
    config::Flags flags;
    flags.config_file = st.o.config_file;
    auto loaded = config::load(flags, st.env);
    if (!loaded.config) return;  // the proxy could not have started with it either
    const std::string path = audit_log_path(*loaded.config, st.env);
    if (path.empty()) return;
    // Records carry milliseconds; a whole second of slack costs nothing, as the proxy's pid filters.
    AuditFilter filter;
    filter.since = std::chrono::floor<std::chrono::seconds>(started) - 1s;
    filter.proxy_pid = st.proxy_pid;
    std::cerr << session_report(read_audit_trail(path, filter), path);
  } catch (const std::exception& e) {
    std::cerr << "vault-proxy run: warning: cannot read the audit trail: " << e.what() << "\n";
  }
}

}  // namespace

int run_run(const RunOptions& o, const config::Env& env) {
  if (o.command.empty()) {
    std::cerr << "vault-proxy run: give the command after --, e.g. vault-proxy run -- claude\n";
    return exit_usage;
  }
  // The command runs as our child with our uid: while we are dumpable it could read the service
  // token from /proc/$PPID/environ.
  harden_process();
  const auto started = std::chrono::system_clock::now();
  RunState st{o, env};
  if (auto failed = open_proxy_log(st)) return *failed;
  install_handlers();
  if (auto failed = spawn_proxy(st)) {
    if (st.own_log) ::close(st.log_fd);
    return *failed;
  }
  if (auto failed = wait_ready(st)) return *failed;
  if (auto failed = read_local_token(st)) return *failed;

  const std::string url = proxy_url(st.address, st.port);
  const std::string url_for_command = command_url(st, url);
  if (st.own_log) {
    // The startup warnings (e.g. no service token) follow the readiness line; by now they are in.
    {
      std::lock_guard lock(st.relay.mu);
      st.head = st.relay.head;
    }
    for (auto& w : warnings_in(st.head)) std::cerr << "vault-proxy run: proxy: " << w << "\n";
  }
  std::cerr << fmt::format("vault-proxy run: proxy ready on {}{} (pid {}{})\n", url,
                           url_for_command != url ? " with its capability prefix" : "", st.proxy_pid,
                           st.own_log ? ", log " + st.log_path : std::string());
  const int code = run_command(st, url, url_for_command);
  report_session(st, started);
  return st.finish(code);
}

}  // namespace vp::cli
