#pragma once
// State shared by every worker: configuration, credentials, TLS context, counters and the ready
// probe cache. Written only at start or through atomics / its own mutex.

#include "config/config.hpp"
#include "core/credentials.hpp"
#include "core/diagnosis.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/policy.hpp"
#include "core/request_check.hpp"
#include "core/worker_count.hpp"
#include "net/asio.hpp"
#include "net/token_slot.hpp"
#include "sys/append_log.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace vp::proxy {

struct Worker;

inline constexpr std::size_t diagnosis_count = static_cast<std::size_t>(core::Diagnosis::upstream_server_error) + 1;
inline constexpr std::size_t error_code_count = static_cast<std::size_t>(core::ErrorCode::internal) + 1;

/// The most recent error, for `vault-proxy status`.
struct LastError {
  std::string code;
  std::string detail;
  std::chrono::system_clock::time_point at;
};

/// Process-wide counters (relaxed atomics; read by status and tests).
struct Counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> proxied{0};
  std::atomic<std::uint64_t> local{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> upstream_errors{0};
  std::atomic<std::uint64_t> credentials_injected{0};
  std::atomic<std::uint64_t> client_credentials_removed{0};
  std::atomic<std::uint64_t> underscore_fields_removed{0};  ///< request fields named with '_'
  std::atomic<std::uint64_t> access_cookies_removed{0};     ///< Set-Cookie: CF_Authorization=…
  std::atomic<std::uint64_t> placeholders_replaced{0};      ///< auto-auth: Bearer <local> → the real token
  std::atomic<std::uint64_t> local_auth_answers{0};         ///< auto-auth: logins, renews, revokes answered here
  std::atomic<std::uint64_t> local_logins_refused{0};       ///< auto-auth: logins with other credentials
  std::atomic<std::uint64_t> policy_allowed{0};             ///< requests a local policy allowed
  std::atomic<std::uint64_t> policy_refused{0};             ///< requests a local policy refused (403 local_policy)
  std::atomic<std::uint64_t> audit_records{0};              ///< audit lines queued for the audit file
  std::atomic<std::uint64_t> peer_lookups{0};               ///< client processes looked up (once per connection)
  std::atomic<std::uint64_t> peer_lookup_us{0};             ///< the time they took, in all
  std::array<std::atomic<std::uint64_t>, diagnosis_count> diagnoses{};  ///< by core::Diagnosis
  std::array<std::atomic<std::uint64_t>, error_code_count> errors{};    ///< by ErrorCode
  std::array<std::atomic<std::uint64_t>, 5> responses_by_class{};       ///< 1xx … 5xx sent to clients
  std::array<std::atomic<std::uint64_t>, core::latency_buckets> upstream_latency{};  ///< per bucket
  std::atomic<std::uint64_t> upstream_latency_sum_us{0};

  /// Counts one upstream latency (request header sent → response header received).
  void observe_upstream_latency(std::chrono::microseconds d) noexcept {
    upstream_latency[core::latency_bucket(d)].fetch_add(1, std::memory_order_relaxed);
    upstream_latency_sum_us.fetch_add(static_cast<std::uint64_t>(d.count()), std::memory_order_relaxed);
  }
};

/// What the credential reloads did, for status.
struct ReloadStats {
  std::atomic<std::uint64_t> applied{0};  ///< a new token was installed
  std::atomic<std::uint64_t> refused{0};  ///< a new value was bad; the old token stayed
  std::mutex mutex;
  std::string last_trigger;  ///< "SIGHUP", "file change"
  std::string last_outcome;  ///< "installed", "unchanged", "refused", "nothing configured"
  std::string last_message;  ///< never a value
  std::chrono::system_clock::time_point last_at{};
};

/// The cached outcome of the last ready probe.
struct ProbeResult {
  bool ready = false;
  unsigned upstream_status = 0;
  std::string reason;
  std::string diagnosis;  ///< core::diagnosis_name of a non-200 answer
  std::chrono::steady_clock::time_point at{};
};

/// Everything a session needs that is not per-worker.
struct Shared {
  Shared(const config::Config& c, core::CredentialStore& cr, std::shared_ptr<ssl::context> t)
      : cfg(c), creds(cr), tls(std::move(t)), host_header(c.upstream.host_header()) {}

  const config::Config& cfg;
  core::CredentialStore& creds;
  std::shared_ptr<ssl::context> tls;
  std::string host_header;
  core::CheckPolicy policy;
  std::string capability;  ///< required path prefix token (empty: off); redacted from logs
  Counters counters;
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> draining{false};
  core::WorkerCount workers;  ///< how many workers run, and why (set before they start)
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  std::mutex probe_mutex;
  ProbeResult probe;

  std::mutex last_error_mutex;
  std::optional<LastError> last_error;

  ReloadStats reloads;

  /// Every worker, for the metrics that live in them (their pools); filled by the server.
  std::vector<Worker*> worker_list;

  /// Auto-auth's identity, placeholder and token (docs/auto-auth.md); null when it is off.
  net_token::AutoAuth* auto_auth = nullptr;

  /// The local policy of each listener (docs/guardrails.md); null: no policy. Swapped on SIGHUP;
  /// a request decides on the one it loaded. A plain pointer, so that a request pays one atomic
  /// load and no shared reference count: every policy ever set stays in `policies_kept` until exit
  /// (one per reload).
  enum Listener : std::size_t { tcp_listener = 0, unix_listener = 1 };
  std::array<std::atomic<const core::Policy*>, 2> policies{};
  std::mutex policies_mutex;
  std::vector<std::shared_ptr<const core::Policy>> policies_kept;

  /// The audit trail's file (docs/guardrails.md); null when it is off. Its writer thread does the
  /// I/O: a request only queues a line.
  sys::AppendLog* audit = nullptr;
  std::string audit_path;
  /// Where a TCP client's process is looked up (a /proc scan), off the workers' threads; started
  /// by the first lookup, so that a proxy nobody audits holds no extra thread.
  std::once_flag lookups_once;
  std::unique_ptr<net::thread_pool> lookups;
  const long pid = static_cast<long>(::getpid());

  /// Records an error for status (detail must not contain secrets; it is also redacted on output).
  void note_error(std::string_view code, std::string detail) {
    std::lock_guard lock(last_error_mutex);
    last_error = LastError{std::string(code), std::move(detail), std::chrono::system_clock::now()};
  }
};

}  // namespace vp::proxy
