#pragma once
// The I/O of `vault-proxy doctor`: each gather function dials, asks and records what it saw in the
// check's observation (doctor_judge.hpp), and decides nothing. They are thin on purpose, around
// infisical::Client and the shared TLS context, so that the HTTP plumbing can be swapped under them.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/doctor_checks.hpp"
#include "cli/doctor_judge.hpp"
#include "core/secret.hpp"
#include "infisical/client.hpp"
#include "net/asio.hpp"

namespace vp::cli::doctor {

/// What the gather functions share while the checks run: where to dial, the one time budget, and
/// what an earlier check obtained for a later one. Holds no verdict.
struct Session {
  Session(const Inputs& inputs, net::any_io_executor executor);

  const Inputs& in;
  net::any_io_executor ex;
  std::chrono::steady_clock::time_point deadline;   ///< the end of the overall budget
  std::string proxy_host;                           ///< proxy_dial_host(in.cfg)
  std::shared_ptr<const core::ServiceToken> token;  ///< this environment's service token, if any
  std::shared_ptr<ssl::context> tls;                ///< made by gather_upstream, used by gather_access
  std::optional<core::Secret> access_token;         ///< from gather_login: the reads use it, then it is revoked
  std::vector<core::Secret> seen;                   ///< secret values received, scrubbed from the report

  /// A deadline for one network step: `cap` from now, never past the overall budget.
  std::chrono::steady_clock::time_point bound(std::chrono::steady_clock::duration cap) const;
  bool budget_spent() const;
  /// HTTP to the proxy.
  infisical::Client proxy_client() const;
  /// HTTPS straight to the vault, with `service_token` (null: none) added as the proxy adds it.
  infisical::Client direct_client(std::shared_ptr<const core::ServiceToken> service_token) const;
};

/// What the verdicts may see of an answer: no body.
Answer observe(const infisical::Reply& reply);

/// TCP connect to the proxy's port, its owner from /proc, and /__vault-proxy/health when the
/// owner is not called vault-proxy.
net::awaitable<ListenerObservation> gather_listener(Session& s);
/// /__vault-proxy/health, then /status and /ready when it is healthy.
net::awaitable<HealthObservation> gather_health(Session& s);
/// DNS (or VAULT_PROXY_CONNECT_TO), TCP and a verified TLS handshake straight to the vault; sets s.tls.
net::awaitable<UpstreamObservation> gather_upstream(Session& s);
/// GET /api/status straight to the vault with the service token (when there is one) and without.
net::awaitable<AccessObservation> gather_access(Session& s);
/// GET /api/status through the proxy.
net::awaitable<InfisicalObservation> gather_infisical(Session& s);
/// Exactly one universal-auth login through the proxy; keeps the access token in s.access_token.
net::awaitable<LoginObservation> gather_login(Session& s);
/// get-secret of --key at --in-scope-path with s.access_token; a value read is kept in s.seen.
net::awaitable<ReadObservation> gather_read_in_scope(Session& s);
/// The same at --out-of-scope-path.
net::awaitable<ReadObservation> gather_read_out_of_scope(Session& s);

/// Revokes s.access_token, if there is one: true when revoked, nullopt when there was none.
net::awaitable<std::optional<bool>> revoke_access_token(Session& s);

/// The whole file; nullopt when it does not exist or cannot be read.
std::optional<std::string> read_text_file(const std::string& path);

}  // namespace vp::cli::doctor
