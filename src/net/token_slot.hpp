#pragma once
// Auto-auth's shared state (docs/auto-auth.md): the machine identity's credentials, the local
// placeholder token that clients hold, and the slot for the real access token, which the token
// keeper (infisical/token_keeper.hpp) fills and the request path (proxy/) reads. Requests that find
// no usable token wait in the slot for the keeper's single login, never starting one of their own.

#include "core/credentials.hpp"
#include "core/secret.hpp"
#include "core/token_life.hpp"
#include "net/asio.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace vp::net_token {

using clock = std::chrono::steady_clock;

/// One access token as the vault issued it.
struct AccessToken {
  core::Secret value;
  core::TokenTimes times;
  std::uint64_t version = 0;  ///< increments with every login (a renew keeps it)
};

/// The keeper's state, for ready and status. Never holds a token or a secret.
struct KeeperStatus {
  std::string state = "starting";  ///< starting, ready, renewing, logging in, backing off, locked out, no identity
  std::string reason;              ///< why it is not ready (empty when ready)
  bool stalled = false;            ///< no attempt is made until an operator changes something
  std::uint64_t logins = 0;        ///< successful logins
  std::uint64_t renews = 0;        ///< successful renews
  std::uint64_t login_attempts = 0;
  std::uint64_t renew_attempts = 0;
  std::uint64_t failures = 0;      ///< failed logins and renews
};

/// Holds the current access token. Readers take a snapshot; the keeper installs new ones.
class TokenSlot {
 public:
  /// The token, or null before the first login (and after one was found bad).
  std::shared_ptr<const AccessToken> current() const noexcept { return token_.load(std::memory_order_acquire); }
  /// The token when usable now (core::token_usable), else null.
  std::shared_ptr<const AccessToken> usable(clock::time_point now = clock::now()) const;

  /// Installs a token from a login (new version) or a renew (`same_version`: the same token, new times).
  void install(core::Secret value, core::TokenTimes times, bool same_version = false);
  /// Forgets the token (it was refused upstream or expired), if it is still version `version`.
  void drop(std::uint64_t version);

  /// Waits on the calling coroutine's executor until a usable token is installed, or `deadline`;
  /// null then, or at once while the keeper is stalled (KeeperStatus::stalled). Wakes the keeper first (the `on_need` hook), so a request never waits on a timer.
  net::awaitable<std::shared_ptr<const AccessToken>> wait_usable(clock::time_point deadline);

  /// Called when a request needs a token now, or saw it refused (set once, before serving).
  void on_need(std::function<void()> hook) { on_need_ = std::move(hook); }
  /// Tells the keeper that a request needs a token or saw token `version` refused upstream.
  void need(std::uint64_t refused_version = 0);

  KeeperStatus status() const;
  void set_status(KeeperStatus s);
  /// The version a request saw refused (0: none since the keeper last looked), and resets it.
  std::uint64_t take_refused() noexcept { return refused_.exchange(0, std::memory_order_acq_rel); }

 private:
  void notify_waiters();

  std::atomic<std::shared_ptr<const AccessToken>> token_;
  std::atomic<std::uint64_t> versions_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::function<void()> on_need_;

  mutable std::mutex mutex_;  // waiters_, generation_, status_
  std::vector<std::shared_ptr<net::steady_timer>> waiters_;
  std::uint64_t generation_ = 0;
  KeeperStatus status_;
};

/// Everything auto-auth shares between the keeper and the request path.
struct AutoAuth {
  core::CredentialStore identity;  ///< INFISICAL_MCP_CLIENT_ID / _SECRET (ServiceToken holds any id/secret pair)
  core::Secret local_token;        ///< the placeholder clients hold; never sent upstream
  TokenSlot token;
};

/// A new random placeholder: "vpl_" and 43 base64url characters (256 bits from the OS's CSPRNG).
core::Secret make_local_token();

}  // namespace vp::net_token
