#pragma once
// The verdicts of `vault-proxy doctor`: pure functions from what a check observed to its
// CheckResult, and the premises that decide a check from its inputs alone. No sockets, files or
// clocks here: doctor_gather.hpp fills the observations, doctor_checks.cpp orders the checks.
// An observation holds what was dialled and what came back (statuses, the headers that name a
// cause, classes, errors), never a secret value: lengths and fingerprints only.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/doctor_checks.hpp"
#include "cli/doctor_report.hpp"
#include "core/diagnosis.hpp"

namespace vp::cli::doctor {

/// One HTTP answer as the verdicts see it. No body: only what names its cause.
struct Answer {
  bool answered = false;  ///< false: a transport failure, see `error`
  std::string error;      ///< why there was no answer, e.g. "connect 127.0.0.1:2019: Connection refused"
  unsigned status = 0;
  std::string content_type;
  std::string location;
  std::string cf_mitigated;
  std::string proxy_error;                            ///< X-Vault-Proxy-Error: the proxy's own error code
  std::string proxy_diagnosis;                        ///< X-Vault-Proxy-Diagnosis, as the proxy sent it
  core::Diagnosis diagnosis = core::Diagnosis::none;  ///< core::classify over the answer as received
  std::string api_message;                            ///< `message` of an Infisical or vault-proxy JSON error body
};

/// "403 text/html → cf_access_forbidden", with the Location of a redirect, for details.
std::string describe(const Answer& a);

// ---- Premises: the verdict when a check's inputs are missing (skip, warn or fail), else nullopt.

/// Listener: port 0 (ephemeral) says nothing about where the proxy listens.
std::optional<CheckResult> need_known_port(const Inputs& in);
/// Access: the service token in this environment, if one is named, must be readable.
std::optional<CheckResult> need_readable_service_token(const Inputs& in);
/// Identity login: both of the identity's variables (skip when neither is set, warn for one).
std::optional<CheckResult> need_identity_variables(const Inputs& in);
/// Secret reads: --project-id, --environment, --in-scope-path and --key (skip when none is given).
std::optional<CheckResult> need_read_plan(const Inputs& in);

/// A check the overall time budget did not reach: `fail`, so that the run cannot exit 0.
CheckResult not_run(std::chrono::milliseconds budget);

// ---- 1. listener

/// How far a TCP dial got.
enum class Dial { connected, resolve_failed, connect_timed_out, connect_failed };

/// Check 1: the TCP dial to the proxy's port and who holds it.
struct ListenerObservation {
  std::string host;  ///< the address dialled (proxy_dial_host)
  std::uint16_t port = 0;
  Dial dial = Dial::connected;
  std::string error;                 ///< why the dial stopped
  std::optional<std::string> owner;  ///< "pid N (name)" of the process holding the port, when visible
  Answer health;                     ///< GET /__vault-proxy/health, asked only when the owner is not vault-proxy
  bool health_ok = false;            ///< ... answered 200 {"status":"ok"}: only vault-proxy does
};

/// The process name in "pid N (name)"; empty when there is none.
std::string owner_process_name(const std::optional<std::string>& owner);

/// Failure mode A: nothing listening, another process, a renamed proxy, Caddy's port 2019.
CheckResult judge_listener(const ListenerObservation& o);

// ---- 2. health

/// The `credentials` object of /__vault-proxy/status.
struct ProxyCredentials {
  bool loaded = false;
  std::string source = "?";
  std::string fingerprint;
};

/// /__vault-proxy/status, when it answered 200 with a JSON object.
struct ProxyStatus {
  int pid = 0;
  std::string version = "?";
  int uptime_s = 0;
  std::optional<ProxyCredentials> credentials;  ///< absent from older proxies
};

/// Check 2: the proxy's own endpoints.
struct HealthObservation {
  Answer health;         ///< GET /__vault-proxy/health
  bool healthy = false;  ///< ... answered 200 {"status":"ok"}; /status and /ready are asked only then
  std::string health_version = "?";
  std::optional<ProxyStatus> status;             ///< GET /__vault-proxy/status
  Answer ready;                                  ///< GET /__vault-proxy/ready
  bool is_ready = false;                         ///< ... answered 200 {"ready":true}
  std::optional<int> upstream_status;            ///< its `upstream_status`
  std::optional<std::string> ready_reason;       ///< its `reason`
  std::optional<std::string> local_fingerprint;  ///< this environment's service token, when it has one
};

/// The proxy answers; it holds a service token, the same one as this environment; it is ready.
CheckResult judge_health(const HealthObservation& o);

// ---- 3. upstream

/// Where the dial to the vault stopped, in the order of its steps.
enum class TlsDial {
  no_tls_context,  ///< the TLS context could not be made (VAULT_PROXY_CA_FILE)
  resolve_timed_out,
  resolve_failed,
  connect_failed,
  not_prepared,  ///< OpenSSL refused SNI or the name check
  handshake_timed_out,
  handshake_failed,
  verified,
};

/// The verified leaf certificate.
struct Certificate {
  std::string tls_version;  ///< e.g. "TLSv1.3"
  std::string subject;
  std::string issuer;
  std::string expires = "?";  ///< "2026-08-20 10:11 UTC"
  int days_left = 0;
};

/// Check 3: DNS, TCP and TLS straight to the vault.
struct UpstreamObservation {
  std::string host;  ///< the upstream's name: SNI and the certificate check
  std::string dial_host;
  std::uint16_t dial_port = 0;
  bool via_connect_to = false;  ///< dialled VAULT_PROXY_CONNECT_TO instead of resolving `host`
  bool sni_sent = true;         ///< `host` is a name, not an IP address
  TlsDial reached = TlsDial::verified;
  std::string error;                   ///< why the step that stopped failed
  long verify_result = 0;              ///< OpenSSL's verification result of a failed handshake (X509_V_OK)
  std::vector<std::string> addresses;  ///< what the name resolved to
  std::string connected_to;            ///< "address:port" of the TCP connection
  std::optional<Certificate> leaf;
  int warn_days = 14;  ///< --cert-warn-days
};

/// Symptom 6 (DNS, TCP, TLS), the cause of a verification failure, a certificate about to expire.
CheckResult judge_upstream(const UpstreamObservation& o);

// ---- 4. access

/// Check 4: GET /api/status straight to the vault, with and without the service token.
struct AccessObservation {
  std::optional<Answer> with_token;  ///< GET /api/status with the service token; nullopt: none here
  Answer without_token;              ///< the same request without a token
  std::string user_agent;            ///< sent with both; the cf_edge_block fix names it
};

/// Failure mode B: 401/403/302-to-login, cf_edge_block, cf_challenge, 5xx, no Access in front.
CheckResult judge_access(const AccessObservation& o);

// ---- 5. infisical

/// Check 5: GET /api/status through the proxy.
struct InfisicalObservation {
  Answer answer;    ///< GET /api/status through the proxy
  bool ok = false;  ///< ... answered 200 {"message":"Ok"}
  std::string user_agent;
};

/// The proxy's own errors, and the class it names in X-Vault-Proxy-Diagnosis.
CheckResult judge_infisical(const InfisicalObservation& o);

// ---- 6. identity-login

/// Check 6: the one login (the access token itself stays with the gather side, for the reads).
struct LoginObservation {
  Answer answer;                            ///< the one universal-auth login through the proxy
  std::optional<std::size_t> token_length;  ///< set when it returned an access token
  std::int64_t expires_in = 0;
  bool locked = false;  ///< 401 "temporarily locked"
  std::string user_agent;
};

/// Failure mode C: 401, the lockout, 429; the fix never suggests retrying in a loop.
CheckResult judge_identity_login(const LoginObservation& o);

// ---- 7. secret-read and secret-scope

/// Check 7: one get-secret through the proxy.
struct ReadObservation {
  std::string key;  ///< what was asked for
  std::string environment;
  std::string secret_path;
  Answer answer;
  bool found = false;                       ///< 200 with a `secret` object
  std::optional<std::size_t> value_length;  ///< the value itself is never kept here
  std::string user_agent;
};

/// Failure mode D: a 403 on an in-scope path is an RBAC regression that wakes the operator.
CheckResult judge_secret_read(const ReadObservation& o);
/// Outside the scope 403 is expected; 200 or 404 means the identity reaches too far.
CheckResult judge_secret_scope(const ReadObservation& o);

}  // namespace vp::cli::doctor
