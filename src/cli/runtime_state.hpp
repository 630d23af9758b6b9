#pragma once
// The runtime state file a serving proxy keeps (docs/CONTRACT.md, "Runtime state and status"), and
// the checks `stop`, `status`, `run` and `mcp-config` use to find that proxy again. A proxy is found
// through this file, never by process name: the runbook's `kill $(pgrep -f …)` could hit any process
// whose command line happens to match.

#include "config/config.hpp"

#include <nlohmann/json.hpp>

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vp::cli {

/// One serving proxy, as recorded in `serve-<port>.json`.
struct RuntimeState {
  int pid = 0;
  std::uint16_t port = 0;
  std::string listen;       ///< listen address as configured, e.g. "127.0.0.1"
  std::string upstream;     ///< e.g. "https://vault.raxx.app"
  std::string started_at;   ///< UTC, "YYYY-MM-DDTHH:MM:SSZ"
  std::string version;      ///< vault-proxy version of the serving binary
  /// Field 22 of /proc/<pid>/stat (clock ticks after boot) when the proxy started: a recycled pid
  /// has a different value, so it is never mistaken for the proxy.
  std::uint64_t proc_start_ticks = 0;
  /// The file holding the capability path prefix when `--capability` is on; empty when off. The
  /// prefix itself is never written here.
  std::string capability_file;
};

/// The file's JSON (keys: pid, port, listen, upstream, started_at, version, proc_start_ticks,
/// capability_file).
nlohmann::json to_json(const RuntimeState& state);
/// Parses the file's JSON; nullopt with `problem` set when a required field is missing or mistyped.
std::optional<RuntimeState> state_from_json(const nlohmann::json& j, std::string& problem);

/// The state directory: `$VAULT_PROXY_STATE_DIR`, else `$XDG_RUNTIME_DIR/vault-proxy`, else
/// `/tmp/vault-proxy-<uid>`.
std::string state_dir(const config::Env& env);

/// Creates `dir` (and missing parents) with mode 0700. An existing directory must be a real
/// directory (not a symlink) owned by this user; group/other permission bits are removed. Throws
/// std::runtime_error whose text says what to do.
void ensure_state_dir(const std::string& dir);

/// The read side of ensure_state_dir(), which repairs nothing: "" when `dir` is missing or is a
/// real directory owned by this user and not writable by group or others; else a refusal that
/// names the directory, what is wrong with it and what to do. Another user may have created
/// /tmp/vault-proxy-<uid> first to plant state files in it.
std::string state_dir_problem(const std::string& dir);

/// `<dir>/serve-<port>.json`.
std::string state_file_path(const std::string& dir, std::uint16_t port);

/// Writes the state file atomically (sys::write_file_atomic), mode 0600, creating the directory
/// first. Returns the file's path. Throws std::runtime_error.
std::string write_state(const std::string& dir, const RuntimeState& state);

/// A state file found on disk: either parsed, or the reason it could not be.
struct StateFile {
  std::string path;
  std::optional<RuntimeState> state;
  std::string problem;  ///< set when state is empty
};

/// Reads one state file; nullopt when it does not exist. It is opened without following a symlink
/// and must be a regular file of this user that group and others cannot write (else `problem`).
std::optional<StateFile> read_state_file(const std::string& path);

/// Every `serve-*.json` in `dir` (only `serve-<port>.json` when `port` is given), sorted by port.
/// A missing directory gives an empty list; so does one that state_dir_problem() refuses, with
/// `dir_problem` set to that refusal.
std::vector<StateFile> list_state_files(const std::string& dir, std::optional<std::uint16_t> port,
                                        std::string& dir_problem);

/// Removes `path` if it still records `pid` (so a file a newer proxy wrote meanwhile, or one that
/// fails the checks of read_state_file(), is kept). Returns true when the file is gone afterwards.
bool remove_state_file(const std::string& path, int pid);

/// What /proc says about one process.
struct ProcInfo {
  char state = '?';                 ///< field 3 of /proc/<pid>/stat ('Z' = zombie)
  std::uint64_t start_ticks = 0;    ///< field 22 of /proc/<pid>/stat
  std::optional<std::string> exe;   ///< readlink /proc/<pid>/exe (unreadable for another user's
                                    ///< or a non-dumpable process)
  std::optional<std::string> argv0;  ///< first word of /proc/<pid>/cmdline
  /// Real and effective uid (the `Uid:` line of /proc/<pid>/status). /proc/<pid> itself is owned
  /// by root for a non-dumpable process such as the proxy, so its owner says nothing.
  std::optional<uid_t> uid;
  std::optional<uid_t> euid;
};

/// Reads /proc/<pid>; nullopt when there is no such process.
std::optional<ProcInfo> read_proc(int pid);

/// Parses the text of /proc/<pid>/stat (the command name may hold spaces and parentheses).
std::optional<ProcInfo> parse_proc_stat(std::string_view stat_text);

/// Sets info.uid and info.euid from the `Uid:` line of /proc/<pid>/status; false when it is missing.
bool parse_proc_status_uids(std::string_view status_text, ProcInfo& info);

/// True when the basename of `path` is `vault-proxy` (or `vault-proxy-*` / `vault-proxy.*`); a
/// trailing " (deleted)" (binary replaced while running) is ignored.
bool is_vault_proxy_path(std::string_view path);

/// How a recorded proxy relates to the process now holding its pid.
enum class Liveness {
  running,         ///< same pid, same start time, a vault-proxy binary
  gone,            ///< no such process, or it has exited (zombie)
  pid_reused,      ///< the pid belongs to a process started at another time
  not_vault_proxy, ///< same start time but not a vault-proxy binary, or its binary cannot be read
  other_user,      ///< same start time but another user's process (or its owner cannot be read)
};

/// Liveness and a sentence explaining it (names the pid, never guesses).
struct LivenessCheck {
  Liveness liveness = Liveness::gone;
  std::string detail;
};

/// Pure: classifies `proc` (nullopt = no such process) against what the state file recorded. A
/// process whose real or effective uid is not `caller` is never the proxy.
LivenessCheck classify(const RuntimeState& recorded, const std::optional<ProcInfo>& proc,
                       uid_t caller = ::geteuid());
/// classify() against the live /proc.
LivenessCheck check_liveness(const RuntimeState& recorded);

/// A recorded proxy and what /proc says about the process holding its pid.
struct FoundProxy {
  std::string path;       ///< the state file
  RuntimeState state;
  LivenessCheck check;
};

/// The outcome of looking through the state directory.
struct Survey {
  std::string dir;
  std::vector<FoundProxy> running;    ///< verified: the recorded vault-proxy is alive
  std::vector<FoundProxy> impostors;  ///< the pid is alive but is not the recorded proxy (file left alone)
  std::vector<std::string> notes;     ///< one sentence per stale file removed or file ignored
  std::string refused;  ///< set when the state directory fails state_dir_problem(): nothing was read
};

/// Reads every state file (or only the one for `port`), removes the stale ones (the recorded
/// process is gone or its pid was reused) and sorts the rest into running proxies and impostors.
Survey survey_proxies(const config::Env& env, std::optional<std::uint16_t> port);

/// The RuntimeState of this process, for `serve`.
RuntimeState current_process_state(std::uint16_t port, std::string listen, std::string upstream);

/// Keeps the state file of a serving proxy: written at construction, removed at destruction. A
/// write failure is logged as a warning (the proxy still serves; stop/status will not find it).
class RuntimeStateGuard {
 public:
  RuntimeStateGuard(const config::Env& env, std::uint16_t port, std::string listen, std::string upstream,
                    std::string capability_file = {});
  ~RuntimeStateGuard();
  RuntimeStateGuard(const RuntimeStateGuard&) = delete;
  RuntimeStateGuard& operator=(const RuntimeStateGuard&) = delete;

 private:
  std::string path_;  ///< empty when nothing was written
};

/// The address to reach a proxy listening on `listen` from this host: wildcard addresses map to
/// loopback.
std::string connect_address(const std::string& listen);
/// connect_address(listen) as an IP address when it is a loopback one (127.0.0.0/8, ::1, or
/// `localhost` → 127.0.0.1); nullopt with `problem` set otherwise, as a clause ("records the listen
/// address …"). What a state file says is never a reason to send a request, or a client's
/// credentials, to another host.
std::optional<std::string> loopback_connect_address(const std::string& listen, std::string& problem);
/// `http://ADDR:PORT` (brackets for IPv6) for connect_address(listen).
std::string proxy_url(const std::string& listen, std::uint16_t port);

/// The path prefix a request to this proxy needs: "" when the capability is off, "/<token>" when
/// on (read from its capability file). nullopt with `error` set when the file cannot be read, or
/// is not one the proxy wrote: a symlink, another user's file, or readable by group or others.
std::optional<std::string> capability_prefix(const RuntimeState& state, std::string& error);

/// Parses a port number 0..65535; nullopt when `text` is not one.
std::optional<std::uint16_t> parse_port(std::string_view text);

/// "1h 02m 03s" style.
std::string format_duration(std::int64_t seconds);

/// Seconds since `started_at` ("YYYY-MM-DDTHH:MM:SSZ"); nullopt if it does not parse.
std::optional<std::int64_t> seconds_since(const std::string& started_at);

}  // namespace vp::cli
