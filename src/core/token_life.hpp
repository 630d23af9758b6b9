#pragma once
// Auto-auth's decisions, apart from its I/O (docs/auto-auth.md): when the proxy renews the identity's
// access token, when it logs in again instead, how long it backs off after a failure, and how it
// treats what a client sends in place of the real token (the local placeholder, a login, a renew or
// a revoke). infisical/token_keeper.cpp and proxy/ call these; each is table-tested in
// tests/unit/token_life_test.cpp.

#include "core/http.hpp"
#include "core/secret.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vp::core {

using seconds = std::chrono::seconds;
using std::chrono::milliseconds;

/// What the vault told us about the token in hand, in steady-clock time.
struct TokenTimes {
  bool present = false;  ///< a token was obtained and not found bad since
  std::chrono::steady_clock::time_point expires_at{};  ///< from the last login or renew's expiresIn
  /// From the login's accessTokenMaxTTL; nullopt when the vault sets no max TTL (0).
  std::optional<std::chrono::steady_clock::time_point> max_expires_at;
  seconds ttl{0};  ///< the last expiresIn: what one renew adds
};

/// The next thing the token keeper does.
struct TokenStep {
  enum class Kind { login, renew, wait };
  Kind kind = Kind::login;
  std::chrono::steady_clock::time_point at{};  ///< wait: until then
};

/// How early before an expiry the keeper acts: a third of the TTL, at least 1 s and at most 5 min,
/// and never more than half the TTL. A token with 3600 s is renewed 5 minutes before it would
/// expire; one with 3 s, 1 s before; one with 1 s, 500 ms before.
milliseconds lead_time(seconds ttl) noexcept;

/// Pure: with no token, log in; before the lead time of the nearer of expiry and max TTL, wait;
/// after it, renew when a renew can still extend the token (its expiry is not already held back
/// by the max TTL), otherwise log in again, so that a fresh token is in hand before the max TTL.
TokenStep next_token_step(const TokenTimes& t, std::chrono::steady_clock::time_point now) noexcept;

/// True while a request may use the token: it exists and expires more than `margin` from now.
bool token_usable(const TokenTimes& t, std::chrono::steady_clock::time_point now,
                  milliseconds margin = milliseconds(500)) noexcept;

/// Backoff before retry `attempt` (1 = after the first failure): 1 s doubling up to 5 min, times a
/// jitter factor in [0.8, 1.2] taken from `unit` in [0, 1).
milliseconds backoff(unsigned attempt, double unit) noexcept;

/// The Infisical auth endpoints a client may call through the proxy in auto-auth mode.
enum class AuthCall { none, login, renew, revoke };

/// Which auth endpoint a request targets: POST to /api/v1/auth/universal-auth/login,
/// /api/v1/auth/token/renew or /api/v1/auth/token/revoke (query string ignored).
AuthCall auth_call(http::verb method, std::string_view target) noexcept;

/// Pure: true when the vault's answer to a request that carried the real token says the token
/// itself is no good (401, or 403 with Infisical's `"error": "TokenError"`), not that the identity
/// lacks a permission (403 with another error). `body` is the error body read for diagnosis.
bool token_refused(unsigned status, std::string_view body) noexcept;

/// Constant-time equality of two byte strings (the time depends only on their lengths).
bool equal_constant_time(std::string_view a, std::string_view b) noexcept;

/// What to do with a request's `Authorization` field in auto-auth mode.
enum class BearerUse {
  none,         ///< no Authorization field: passes as it is
  placeholder,  ///< exactly `Bearer <local token>`: replaced by the real token
  other,        ///< anything else (another token, another scheme, several fields): passes untouched
};
BearerUse bearer_use(const http::fields& fields, const Secret& local_token) noexcept;

/// A local answer to an auth call: status and JSON body.
struct LocalAnswer {
  unsigned status = 200;
  std::string body;
};

/// How the local placeholder token is described to clients: it lasts as long as the proxy runs, so
/// a client that schedules its own renewal does it rarely (Infisical's default TTL, 30 days).
inline constexpr std::int64_t placeholder_ttl_s = 2592000;

/// Pure: the answer to a client's universal-auth login, whose body is `body`. Only a JSON object
/// whose clientId and clientSecret equal the identity's (compared in constant time) gets the
/// placeholder, in Infisical's login shape; anything else gets Infisical's 401 shape, and nothing
/// goes upstream (a wrong secret there would count towards the identity's lockout).
LocalAnswer answer_login(std::string_view body, const Secret& client_id, const Secret& client_secret,
                         const Secret& local_token);

/// Pure: the answer to a renew or revoke whose body names `{"accessToken": <local token>}`; nullopt
/// when it names another token (the call then goes upstream untouched). The real token is never
/// revoked by a client: revoking the placeholder is acknowledged and changes nothing.
std::optional<LocalAnswer> answer_token_call(AuthCall call, std::string_view body, const Secret& local_token);

}  // namespace vp::core
