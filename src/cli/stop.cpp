#include "cli/stop.hpp"

#include "cli/exit_codes.hpp"
#include "cli/mcp_config.hpp"
#include "cli/runtime_state.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <thread>

namespace vp::cli {

namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;

/// A pidfd pins the process: once opened, a signal through it can never reach a process that
/// later reuses the pid (pidfd_open(2), Linux 5.3). -1 where unavailable; kill(2) is the fallback.
class PidHandle {
 public:
  explicit PidHandle(int pid) : pid_(pid) {
#ifdef SYS_pidfd_open
    fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#endif
  }
  ~PidHandle() {
    if (fd_ >= 0) ::close(fd_);
  }
  PidHandle(const PidHandle&) = delete;
  PidHandle& operator=(const PidHandle&) = delete;

  int signal(int sig) const {
#ifdef SYS_pidfd_send_signal
    if (fd_ >= 0) return static_cast<int>(::syscall(SYS_pidfd_send_signal, fd_, sig, nullptr, 0));
#endif
    return ::kill(pid_, sig);
  }

  /// Waits until the process has exited (it may stay a zombie until its parent reaps it) or the
  /// deadline passes. True when it exited.
  bool wait_exit(const RuntimeState& recorded, steady::time_point deadline) const {
    for (;;) {
      auto now = steady::now();
      if (fd_ >= 0) {
        pollfd p{fd_, POLLIN, 0};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        int r = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, std::min<long long>(left, 1000))));
        if (r > 0) return true;
        if (r < 0 && errno != EINTR) return !alive(recorded);
      } else {
        if (!alive(recorded)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
      if (steady::now() >= deadline) return !alive(recorded);
    }
  }

 private:
  static bool alive(const RuntimeState& recorded) {
    auto l = check_liveness(recorded).liveness;
    return l == Liveness::running || l == Liveness::not_vault_proxy || l == Liveness::other_user;
  }

  int pid_;
  int fd_ = -1;
};

struct StopOutcome {
  bool stopped = false;
  bool forced = false;
  double seconds = 0;
  std::string message;
};

StopOutcome stop_one(const FoundProxy& p, std::chrono::milliseconds timeout) {
  StopOutcome out;
  const auto start = steady::now();
  PidHandle handle(p.state.pid);
  // Check again with the handle held: the pid cannot be recycled under us any more.
  auto check = check_liveness(p.state);
  if (check.liveness == Liveness::gone || check.liveness == Liveness::pid_reused) {
    remove_state_file(p.path, p.state.pid);
    out.stopped = true;
    out.message = fmt::format("vault-proxy (pid {}, port {}) had already exited", p.state.pid, p.state.port);
    return out;
  }
  if (check.liveness != Liveness::running) {
    out.message = fmt::format("refusing to signal pid {}: {}. Nothing was killed", p.state.pid, check.detail);
    return out;
  }
  if (handle.signal(SIGTERM) != 0 && errno != ESRCH) {
    out.message = fmt::format("cannot send SIGTERM to pid {}: {}{}", p.state.pid, std::strerror(errno),
                              errno == EPERM ? " (it belongs to another user; run stop as that user)" : "");
    return out;
  }
  bool exited = handle.wait_exit(p.state, start + timeout);
  if (!exited) {
    // Re-verify before the hard kill: SIGKILL must only ever reach the recorded proxy.
    if (check_liveness(p.state).liveness == Liveness::running) {
      out.forced = true;
      handle.signal(SIGKILL);
      exited = handle.wait_exit(p.state, steady::now() + std::chrono::seconds(5));
    } else {
      exited = true;
    }
  }
  out.seconds = std::chrono::duration<double>(steady::now() - start).count();
  if (!exited) {
    out.message = fmt::format("vault-proxy (pid {}, port {}) is still running {:.1f}s after SIGKILL; check it with "
                              "'ps -o pid,stat,cmd -p {}'",
                              p.state.pid, p.state.port, out.seconds, p.state.pid);
    return out;
  }
  remove_state_file(p.path, p.state.pid);  // a clean exit removed it already; SIGKILL did not
  out.stopped = true;
  out.message = out.forced
                    ? fmt::format("stopped vault-proxy (pid {}, port {}) with SIGKILL: it had not exited {:.1f}s "
                                  "after SIGTERM",
                                  p.state.pid, p.state.port, std::chrono::duration<double>(timeout).count())
                    : fmt::format("stopped vault-proxy (pid {}, port {}) in {:.1f}s", p.state.pid, p.state.port,
                                  out.seconds);
  return out;
}

/// `stop --revert`: takes out the .mcp.json entries mcp-config wrote; reports into `report` and
/// `lines`, and turns a failure into `rc` unless something worse is there already.
void revert_entries(const StopOptions& o, json& report, std::vector<std::string>& lines, int& rc) {
  try {
    auto rep = revert_mcp_config(o.mcp_json, std::nullopt, false, false);
    report["revert"] = {{"path", rep.path}, {"action", rep.action}, {"removed", rep.removed}, {"matched", rep.matched},
                        {"gitignore", rep.gitignore}, {"warnings", rep.warnings}};
    for (auto& w : rep.warnings) std::cerr << "vault-proxy stop: revert: " << w << "\n";
    if (rep.action == "removed-file")
      lines.push_back(fmt::format("removed {} (mcp-config had created it)", rep.where));
    else if (rep.action == "removed-entry")
      lines.push_back(fmt::format("removed the \"{}\" entry from {}", fmt::join(rep.removed, "\", \""),
                                  rep.where));
    for (std::size_t i = 0; i < rep.removed.size() && i < rep.matched.size(); ++i)
      lines.push_back(fmt::format("  \"{}\" counted as ours: {}", rep.removed[i], rep.matched[i]));
    if (rep.gitignore == "removed") lines.push_back("removed the .gitignore line that mcp-config had added");
    // The emergency stop's goal is "no proxy, no entry": with --revert, nothing to stop is not a
    // failure, so `stop --revert && …` goes on (docs/commands.md, the exit table).
    if (rc == exit_not_running) rc = exit_ok;
  } catch (const McpConfigError& e) {
    std::cerr << "vault-proxy stop: revert: " << e.what() << "\n";
    report["revert"] = {{"error", e.what()}};
    if (rc == exit_ok || rc == exit_not_running) rc = e.exit_code;
  }
}

}  // namespace

void add_stop(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<StopOptions>();
  auto* cmd = app.add_subcommand("stop", "Emergency stop: SIGTERM the proxy recorded in the state file (SIGKILL "
                                         "after --timeout); never signals a process by name");
  cmd->add_option_function<std::uint16_t>("-p,--port", [o](std::uint16_t p) { o->port = p; },
                                          "only the proxy listening on this port (default: every recorded proxy)")
      ->check(CLI::Range(1, 65535));
  cmd->add_option_function<double>(
         "--timeout",
         [o](double s) { o->timeout = std::chrono::milliseconds(static_cast<long long>(s * 1000)); },
         "seconds to wait after SIGTERM before SIGKILL (default 15)")
      ->check(CLI::Range(0.0, 3600.0));
  auto* revert = cmd->add_flag("--revert", o->revert, "also remove the .mcp.json entry that mcp-config wrote");
  cmd->add_option("--mcp-json", o->mcp_json,
                  "the .mcp.json --revert edits (default: .mcp.json at the repository root, or in the current "
                  "directory outside a repository)")
      ->needs(revert);
  cmd->add_flag("--json", o->json, "print a JSON report on stdout");
  cmd->footer("Exit codes: 0 stopped (with --revert: also when none was running, once the entry is reverted), "
              "1 refused (the state file names a process that is not the recorded proxy, or the state directory "
              "is another user's or writable by others) or the proxy would not die, 2 bad options or an invalid "
              ".mcp.json, 4 not running (without --revert).");
  cmd->callback([o, &exit_code] { exit_code = run_stop(*o, config::process_env()); });
}

int run_stop(const StopOptions& o, const config::Env& env) {
  Survey survey = survey_proxies(env, o.port);
  json report{{"stopped", json::array()}, {"failed", json::array()}, {"notes", survey.notes}, {"revert", nullptr}};
  for (auto& n : survey.notes) std::cerr << "vault-proxy stop: note: " << n << "\n";

  int rc = exit_ok;
  if (!survey.refused.empty()) {
    std::cerr << "vault-proxy stop: " << survey.refused << ". Nothing was killed\n";
    report["refused"] = survey.refused;
    rc = exit_failure;
  }
  std::vector<std::string> lines;
  for (auto& p : survey.running) {
    auto out = stop_one(p, o.timeout);
    json item{{"pid", p.state.pid}, {"port", p.state.port}, {"forced", out.forced}, {"seconds", out.seconds},
              {"message", out.message}};
    if (out.stopped) {
      report["stopped"].push_back(item);
      lines.push_back(out.message);
    } else {
      report["failed"].push_back(item);
      std::cerr << "vault-proxy stop: " << out.message << "\n";
      rc = exit_failure;
    }
  }
  for (auto& p : survey.impostors) {
    std::string msg = fmt::format(
        "refusing to signal pid {}: the state file {} says it is vault-proxy on port {}, but {}. Nothing was "
        "killed. If no proxy should be running there, delete that file",
        p.state.pid, p.path, p.state.port, p.check.detail);
    std::cerr << "vault-proxy stop: " << msg << "\n";
    report["failed"].push_back({{"pid", p.state.pid}, {"port", p.state.port}, {"message", msg}});
    rc = exit_failure;
  }
  if (survey.running.empty() && survey.impostors.empty() && survey.refused.empty()) {
    rc = exit_not_running;
    lines.push_back(fmt::format("vault-proxy is not running{} (no live proxy recorded in {}); nothing to stop",
                                o.port ? fmt::format(" on port {}", *o.port) : "", survey.dir));
  }

  if (o.revert) revert_entries(o, report, lines, rc);

  if (o.json) {
    std::cout << report.dump(2) << "\n";
  } else {
    for (auto& l : lines) std::cout << l << "\n";
    if (!report["stopped"].empty())
      std::cout << "MCP requests through the proxy fail until it runs again ('vault-proxy serve'); vault access "
                   "falls back to the sre-agent dispatch path.\n";
  }
  return rc;
}

}  // namespace vp::cli
