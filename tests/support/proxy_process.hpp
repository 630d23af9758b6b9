#pragma once
// Runs the real `vault-proxy serve` binary as a child process with an explicit environment, captures
// its stdout/stderr (to memory and to files), and waits for its readiness line instead of sleeping.

#include "support/temp_dir.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vp::test {

/// A running `vault-proxy` child.
class ProxyProcess {
 public:
  struct Options {
    /// The child's whole environment (plus PATH, and ASAN/UBSAN/LSAN_OPTIONS if set here). Secrets go
    /// here or in files, never in args.
    std::map<std::string, std::string> env;
    /// Arguments after the binary name; default `serve`.
    std::vector<std::string> args{"serve"};
    /// Wait for `listening on http://ADDR:PORT` on stderr before returning from the constructor.
    bool wait_ready = true;
    std::chrono::milliseconds ready_timeout{10'000};
    /// The binary; default $VP_TEST_BINARY if set, else VP_BINARY.
    std::string binary;
    /// A descriptor of this process to hand to the child as its descriptor 3 (socket activation).
    int pass_fd = -1;
    /// A command that execs the binary (e.g. {"/usr/bin/taskset", "-c", "0"}): the child runs
    /// `launcher... binary args...`. Empty: the binary itself.
    std::vector<std::string> launcher;
  };

  /// Spawns the child. With wait_ready, throws std::runtime_error (with the captured stderr) if the
  /// readiness line does not appear in time or the child exits first.
  explicit ProxyProcess(Options options);
  ProxyProcess(const ProxyProcess&) = delete;
  ProxyProcess& operator=(const ProxyProcess&) = delete;
  /// SIGKILLs the child if it is still running, then reaps it.
  ~ProxyProcess();

  pid_t pid() const noexcept;
  /// The port parsed from the readiness line (0 if not ready).
  std::uint16_t port() const noexcept;
  /// The address parsed from the readiness line.
  std::string listen_address() const;

  /// Waits for a stderr line containing `needle`; false on timeout or child exit.
  bool wait_for_stderr(const std::string& needle, std::chrono::milliseconds timeout) const;

  void send_signal(int sig) const;
  /// Waits for the child to exit: its exit status, or 128+signal if killed; nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  /// True while the child has not been reaped and has not exited.
  bool running();

  /// Everything written so far.
  std::string stderr_text() const;
  std::string stdout_text() const;
  /// Files holding the same output (kept in the process's temp dir).
  std::string stderr_path() const;
  std::string stdout_path() const;
  /// The child's temp dir (for config files and the like).
  const TempDir& dir() const;

  /// A /proc/<pid>/status field in kB (e.g. "VmRSS", "VmHWM"); nullopt if unavailable.
  std::optional<std::uint64_t> status_kb(const std::string& field) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The outcome of one CLI invocation run to completion.
struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

/// Runs `vault-proxy <args>` to completion with exactly `env` (plus PATH); a run that does not exit
/// within `timeout` fails the test.
CliResult run_cli(std::vector<std::string> args, std::map<std::string, std::string> env,
                  std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace vp::test
