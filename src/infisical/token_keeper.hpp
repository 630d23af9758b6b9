#pragma once
// Auto-auth's token keeper (docs/auto-auth.md): on a thread of its own, it logs the machine identity
// in through the proxy's own injection (straight to the upstream, with the service token), renews
// the access token before it expires, logs in again before the max TTL and whenever a renew fails,
// and backs off with jitter after failures. A 401 at login stops the attempts until the identity's
// secret changes: Infisical locks an identity out after three wrong secrets. The decisions are
// core/token_life's; this file only does the calls and the waiting.

#include "config/config.hpp"
#include "core/credentials.hpp"
#include "net/asio.hpp"
#include "net/http_client.hpp"
#include "net/token_slot.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>

namespace vp::infisical {

class TokenKeeper {
 public:
  /// `service_token` and `auth` must outlive the keeper. Builds its own TLS context from the config.
  TokenKeeper(const config::Config& cfg, core::CredentialStore& service_token, net_token::AutoAuth& auth);
  ~TokenKeeper();
  TokenKeeper(const TokenKeeper&) = delete;
  TokenKeeper& operator=(const TokenKeeper&) = delete;

  /// Starts the thread; the first login begins at once.
  void start();
  /// Stops the thread (idempotent).
  void stop();
  /// From any thread: look again now (new identity credentials, a request waiting or refused).
  void wake();

 private:
  net::awaitable<void> run();
  net::awaitable<void> step();
  net::awaitable<bool> login(const core::ServiceToken& identity);
  net::awaitable<bool> renew(const net_token::AccessToken& token);
  net::awaitable<void> sleep_until(std::chrono::steady_clock::time_point t);
  net_http::Endpoint endpoint() const;
  /// Adds one to a counter of the status.
  void count(std::uint64_t net_token::KeeperStatus::*field);
  void set_state(std::string state, std::string reason = {}, bool stalled = false);

  const config::Config& cfg_;
  core::CredentialStore& service_token_;
  net_token::AutoAuth& auth_;
  std::shared_ptr<ssl::context> tls_;

  net::io_context ioc_{1};
  net::steady_timer sleep_{ioc_};
  std::thread thread_;
  bool woken_ = false;
  unsigned failures_ = 0;                           // consecutive, for the backoff
  std::chrono::steady_clock::time_point retry_at_{};  // no attempt before this
  std::uint64_t refused_identity_ = 0;              // identity version whose login got a 401
  std::uint64_t refused_token_ = 0;                 // a token version a request saw refused
  std::chrono::steady_clock::time_point last_refusal_login_{};
  std::minstd_rand rng_;
};

}  // namespace vp::infisical
