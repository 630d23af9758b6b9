#pragma once
// An in-process Infisical for FakeUpstream: universal-auth login with lockout, token renew and
// revoke with TTLs of a few seconds, and a Bearer-protected API (secret reads) that answers 403
// TokenError once a token has expired, as the real vault does (infisical-api.md §2, §5). Plug
// handler() into a FakeUpstream; count logins and renews; list every token it issued, so that
// tests can grep outputs for them.

#include "support/fake_upstream.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace vp::test {

class FakeInfisical {
 public:
  using clock = std::chrono::steady_clock;

  struct Options {
    std::string client_id = "fake-identity-client-id-0001";
    std::string client_secret = "fake-identity-client-secret-s3cr3t-0001";
    std::chrono::milliseconds ttl{3000};      ///< expiresIn of a login and a renew
    std::chrono::milliseconds max_ttl{7000};  ///< accessTokenMaxTTL (0: none)
    unsigned lockout_threshold = 3;           ///< wrong secrets before the lockout
    std::chrono::milliseconds lockout{300'000};
    /// The field bug (infisical-api.md §5): a renew answers 200 but does not extend the token.
    bool renew_does_not_extend = false;
  };

  explicit FakeInfisical(Options options);
  FakeInfisical() : FakeInfisical(Options{}) {}

  /// The handler to give FakeUpstream (it holds a reference to this object).
  FakeUpstream::Handler handler();
  /// Answers one request (what handler() calls).
  Response handle(const RecordedRequest& r);

  /// Changes the identity's client secret (as a rotation would).
  void set_client_secret(std::string secret);
  /// Makes every issued token invalid at once (as an operator's revoke would).
  void revoke_all();

  std::size_t login_attempts() const;
  std::size_t logins() const;           ///< successful
  std::size_t renews() const;           ///< successful
  std::size_t renew_attempts() const;
  std::size_t api_calls() const;        ///< Bearer calls that got 200
  std::size_t token_errors() const;     ///< Bearer calls refused (expired, unknown)
  /// Every token issued so far.
  std::vector<std::string> tokens() const;
  const Options& options() const noexcept { return options_; }

 private:
  struct Token {
    clock::time_point expires_at;
    std::optional<clock::time_point> max_at;
    bool revoked = false;
  };

  Response login(const RecordedRequest& r);
  Response renew(const RecordedRequest& r);
  Response revoke(const RecordedRequest& r);
  Response api(const RecordedRequest& r);
  bool valid(const Token& t, clock::time_point now) const;

  Options options_;
  mutable std::mutex mutex_;
  std::map<std::string, Token> tokens_;
  std::vector<std::string> issued_;
  unsigned wrong_secrets_ = 0;
  clock::time_point locked_until_{};
  std::size_t login_attempts_ = 0, logins_ = 0, renews_ = 0, renew_attempts_ = 0, api_calls_ = 0, token_errors_ = 0;
};

}  // namespace vp::test
