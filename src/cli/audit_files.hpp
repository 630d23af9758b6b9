#pragma once
// Where the audit trail lives and how it is read back: the file and its rotated siblings, each
// opened without following a symlink and checked for owner and mode, the lines parsed (a line that
// does not parse is counted, never fatal) and filtered. Used by `audit`, by `run`'s session report
// and by `serve`, which writes the file (docs/guardrails.md, "The audit trail").

#include "config/config.hpp"
#include "core/audit.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace vp::cli {

/// The default audit file's directory. The trail must outlive a reboot, unlike the runtime state
/// directory (`$XDG_RUNTIME_DIR` is cleared at logout and boot): `$VAULT_PROXY_STATE_DIR` when set,
/// else `$XDG_STATE_HOME/vault-proxy`, else `~/.local/state/vault-proxy`, else the state directory.
std::string audit_dir(const config::Env& env);

/// "" when the audit trail is off; else the configured path, or `<audit_dir(env)>/audit.jsonl`.
std::string audit_log_path(const config::Config& config, const config::Env& env);

/// The audit file and those of its rotated siblings that exist (whatever they are), oldest first:
/// `<path>.<keep>` … `<path>.1`, `<path>`.
std::vector<std::string> audit_files(const std::string& path, unsigned keep = config::audit_log_keep);

/// Which records to keep; an unset member keeps all.
struct AuditFilter {
  std::optional<std::chrono::system_clock::time_point> since;  ///< records at or after
  std::optional<long> client_pid;                              ///< the client process
  std::optional<long> proxy_pid;                               ///< the proxy that wrote them
};

/// What reading the audit files found.
struct AuditTrail {
  std::vector<core::AuditRecord> records;  ///< oldest file first, in file order, filtered
  std::vector<std::string> files;          ///< the files read
  std::size_t unreadable = 0;              ///< non-empty lines that did not parse
  /// One clause per file refused (symlink, another user's, writable by group or others) or not
  /// readable; it names the file and what is wrong with it.
  std::vector<std::string> refused;
};

/// Reads audit_files(path) through sys::read_file (owned by the caller, not writable by group or
/// others) and keeps the records `filter` lets through.
AuditTrail read_audit_trail(const std::string& path, const AuditFilter& filter);

/// `run`'s report on stderr once the command has exited: "vault-proxy: what this session read
/// (audit trail PATH)" and the summary, or "vault-proxy: this session read no secrets"; then a
/// warning per refused file and a note on unreadable lines. Ends in a newline.
std::string session_report(const AuditTrail& trail, const std::string& path);

}  // namespace vp::cli
