#pragma once
// The audit trail (issue 18): one JSON line per request that touches a secret, a folder or an
// identity, and the per-process summary `vault-proxy audit` and `run` print from those lines. A
// record holds names (project, environment, path, keys), never a secret's value or a token: there
// is no field that could carry one (docs/guardrails.md, "The audit trail").

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vp::core {

/// The local process that sent a request, as far as the proxy could tell.
struct AuditClient {
  std::optional<long> pid;
  std::optional<long> uid;
  std::string command;          ///< its command line, as found
  std::vector<long> ancestors;  ///< parent first, then its parent, ...
  std::string problem;          ///< why pid/uid/command are missing, when they are
};

/// One request, as one line of the audit file.
struct AuditRecord {
  std::chrono::system_clock::time_point time;
  long proxy_pid = 0;            ///< the proxy instance that wrote it (run's summary filters on it)
  std::string listener;          ///< "tcp" | "unix"
  AuditClient client;
  std::string method;
  /// "read-secret", "list-secrets", "create-secret", "update-secret", "delete-secret",
  /// "list-folders", "create-folder", "login", "renew-token", "revoke-token", "identity",
  /// "project", "other".
  std::string operation;
  std::string project, environment, secret_path;
  std::vector<std::string> keys;  ///< secret key names
  unsigned status = 0;
  std::string diagnosis;
  std::string decision;  ///< "allow" | "refuse" | "" (no policy)
  std::string rule;      ///< the policy rule that decided, "" when none
};

/// One JSON object, no newline. Keys: ts (RFC 3339 UTC, milliseconds), proxy_pid, listener,
/// client {pid, uid, command, ancestors, problem}, method, operation, project, environment,
/// secret_path, keys, status, diagnosis, decision, rule. Empty optional fields are omitted.
std::string format_audit_line(const AuditRecord& record);

/// The inverse of format_audit_line(); unknown fields are ignored. nullopt, with `problem` set
/// when given, for a line that is not such an object or lacks ts, method, operation or status.
std::optional<AuditRecord> parse_audit_line(std::string_view line, std::string* problem = nullptr);

/// "2026-12-03T15:22:35.123Z".
std::string format_rfc3339_ms(std::chrono::system_clock::time_point t);

/// An RFC 3339 date-time: "2026-12-03T15:22:35Z", with optional fractional seconds (kept to the
/// millisecond) and a "Z" or "±hh:mm" offset; 't'/'z' and a space for 'T' are accepted.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

/// What `vault-proxy audit` prints: per process, what it read, listed, wrote, was refused, failed
/// at, and its other calls (logins).
struct AuditSummary {
  /// A secret read: one row per environment, path and key.
  struct Read {
    std::string environment, path, key;
    std::size_t count = 0;
  };
  /// A listing of secrets or folders.
  struct Listing {
    std::string operation, environment, path;
    std::size_t count = 0;
  };
  /// A write, a refusal or a failure: the request as the client sent it.
  struct Request {
    std::string method, operation, environment, path, key;
    unsigned status = 0;
    std::string diagnosis;
    std::string rule;  ///< refusals: the rule that refused
    std::size_t count = 0;
  };
  /// Any other successful call (login, renew-token, revoke-token, identity, project, other),
  /// counted by operation.
  struct Call {
    std::string operation;
    std::size_t count = 0;
  };
  /// One client process, identified by pid, uid and command.
  struct Process {
    AuditClient client;
    std::vector<Read> reads;
    std::vector<Listing> lists;
    std::vector<Request> writes;
    std::vector<Request> refusals;
    std::vector<Request> failures;  ///< allowed requests the vault answered with a status >= 400
    std::vector<Call> calls;
  };
  /// Counts over every process.
  struct Totals {
    std::size_t records = 0, processes = 0, reads = 0, distinct_secrets = 0, lists = 0, writes = 0,
                refusals = 0, failures = 0, logins = 0, calls = 0;  ///< logins: login and renew-token calls
  };
  std::vector<Process> processes;  ///< in the order each first appears
  Totals totals;
  std::optional<std::chrono::system_clock::time_point> first, last;
};

/// Groups records by client process, in order, counting repeats.
AuditSummary summarize(std::span<const AuditRecord> records);

/// Per process a header line ("pid 4242 uid 1000 node /usr/bin/infisical-mcp (parent 4200)")
/// and indented lines ("  read  prod:/app/DB_URL  (3×)"), then a "totals:" line. Ends in a newline.
std::string render_summary_text(const AuditSummary& summary);

/// The summary as JSON: {processes: [...], totals: {...}, first_ts, last_ts}.
nlohmann::json summary_json(const AuditSummary& summary);

}  // namespace vp::core
