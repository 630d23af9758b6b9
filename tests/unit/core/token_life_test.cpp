// core/token_life: auto-auth's schedule, backoff, and verdicts on what clients send.

#include "core/token_life.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace vp;
using namespace vp::core;
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
using Kind = TokenStep::Kind;

TEST(LeadTime, AThirdOfTheTtlBetweenOneSecondAndFiveMinutesAndAtMostHalf) {
  EXPECT_EQ(lead_time(0s), 0ms);
  EXPECT_EQ(lead_time(1s), 500ms);
  EXPECT_EQ(lead_time(2s), 1000ms);
  EXPECT_EQ(lead_time(3s), 1000ms);
  EXPECT_EQ(lead_time(6s), 2000ms);
  EXPECT_EQ(lead_time(3600s), 300'000ms);
  EXPECT_EQ(lead_time(600s), 200'000ms);
}

TEST(NextTokenStep, LoginRenewOrWaitByExpiryAndMaxTtl) {
  const auto t0 = clock::time_point{} + 1000h;
  struct Row {
    const char* name;
    TokenTimes times;
    clock::time_point now;
    Kind kind;
    clock::time_point at;  // for waits
  };
  TokenTimes fresh{.present = true, .expires_at = t0 + 3600s, .max_expires_at = t0 + 7200s, .ttl = 3600s};
  TokenTimes no_max{.present = true, .expires_at = t0 + 3600s, .max_expires_at = std::nullopt, .ttl = 3600s};
  TokenTimes capped{.present = true, .expires_at = t0 + 7200s, .max_expires_at = t0 + 7200s, .ttl = 3600s};
  TokenTimes near_max{.present = true, .expires_at = t0 + 3600s, .max_expires_at = t0 + 3700s, .ttl = 3600s};
  const Row rows[] = {
      {"no token: log in", TokenTimes{}, t0, Kind::login, t0},
      {"fresh: wait until 5 min before expiry", fresh, t0, Kind::wait, t0 + 3300s},
      {"at the lead time: renew", fresh, t0 + 3300s, Kind::renew, t0 + 3300s},
      {"past expiry: still renew (the keeper logs in if it fails)", fresh, t0 + 3700s, Kind::renew, t0 + 3700s},
      {"no max TTL: renew", no_max, t0 + 3400s, Kind::renew, t0 + 3400s},
      {"expiry held at the max TTL: wait, then log in", capped, t0 + 6000s, Kind::wait, t0 + 6900s},
      {"expiry held at the max TTL, at the lead time: log in", capped, t0 + 6900s, Kind::login, t0 + 6900s},
      {"max TTL within a lead time of expiry: wait for the max", near_max, t0, Kind::wait, t0 + 3300s},
      {"max TTL within a lead time of expiry: log in, not renew", near_max, t0 + 3300s, Kind::login, t0 + 3300s},
  };
  for (const auto& r : rows) {
    auto s = next_token_step(r.times, r.now);
    EXPECT_EQ(s.kind, r.kind) << r.name;
    if (r.kind == Kind::wait) {
      EXPECT_EQ(s.at, r.at) << r.name;
    }
  }
}

TEST(NextTokenStep, ShortTtlsOfTheTests) {
  const auto t0 = clock::time_point{} + 1000h;
  TokenTimes t{.present = true, .expires_at = t0 + 3s, .max_expires_at = t0 + 7s, .ttl = 3s};
  EXPECT_EQ(next_token_step(t, t0).at, t0 + 2s);
  EXPECT_EQ(next_token_step(t, t0 + 2s).kind, Kind::renew);
  t.expires_at = t0 + 5s;  // after the renew at 2 s
  EXPECT_EQ(next_token_step(t, t0 + 4s).kind, Kind::renew);
  t.expires_at = t0 + 7s;  // after the renew at 4 s: held by the max TTL
  EXPECT_EQ(next_token_step(t, t0 + 4s).at, t0 + 6s);
  EXPECT_EQ(next_token_step(t, t0 + 6s).kind, Kind::login);
}

TEST(TokenUsable, UntilHalfASecondBeforeTheNearerEnd) {
  const auto t0 = clock::time_point{} + 1000h;
  TokenTimes t{.present = true, .expires_at = t0 + 10s, .max_expires_at = t0 + 5s, .ttl = 10s};
  EXPECT_TRUE(token_usable(t, t0));
  EXPECT_TRUE(token_usable(t, t0 + 4s));
  EXPECT_FALSE(token_usable(t, t0 + 4600ms));
  t.max_expires_at.reset();
  EXPECT_TRUE(token_usable(t, t0 + 9s));
  EXPECT_FALSE(token_usable(t, t0 + 10s));
  EXPECT_FALSE(token_usable(TokenTimes{}, t0));
}

TEST(Backoff, DoublesFromOneSecondToFiveMinutesWithTwentyPercentJitter) {
  EXPECT_EQ(backoff(0, 0.5), 0ms);
  EXPECT_EQ(backoff(1, 0.5), 1000ms);
  EXPECT_EQ(backoff(2, 0.5), 2000ms);
  EXPECT_EQ(backoff(3, 0.0), 3200ms);
  EXPECT_EQ(backoff(3, 1.0), 4800ms);
  EXPECT_EQ(backoff(9, 0.5), 256'000ms);
  EXPECT_EQ(backoff(10, 0.5), 300'000ms);
  EXPECT_EQ(backoff(1000, 0.5), 300'000ms);
  EXPECT_EQ(backoff(1000, 1.0), 360'000ms);
}

TEST(AuthCall, OnlyPostsToTheThreeEndpoints) {
  EXPECT_EQ(auth_call(http::verb::post, "/api/v1/auth/universal-auth/login"), AuthCall::login);
  EXPECT_EQ(auth_call(http::verb::post, "/api/v1/auth/universal-auth/login?x=1"), AuthCall::login);
  EXPECT_EQ(auth_call(http::verb::post, "/api/v1/auth/token/renew"), AuthCall::renew);
  EXPECT_EQ(auth_call(http::verb::post, "/api/v1/auth/token/revoke"), AuthCall::revoke);
  EXPECT_EQ(auth_call(http::verb::get, "/api/v1/auth/universal-auth/login"), AuthCall::none);
  EXPECT_EQ(auth_call(http::verb::post, "/api/v1/auth/universal-auth/login/"), AuthCall::none);
  EXPECT_EQ(auth_call(http::verb::post, "/api/v1/auth/universal-auth/identities/x"), AuthCall::none);
  EXPECT_EQ(auth_call(http::verb::post, "/api/v3/secrets/raw/x"), AuthCall::none);
}

TEST(EqualConstantTime, ComparesBytesAndLengths) {
  EXPECT_TRUE(equal_constant_time("", ""));
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "abcd"));
  EXPECT_FALSE(equal_constant_time("abcd", "abc"));
  EXPECT_FALSE(equal_constant_time("", "a"));
  EXPECT_FALSE(equal_constant_time(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(BearerUse, OnlyTheExactPlaceholderIsReplaced) {
  const core::Secret local("vpl_placeholder_0123456789");
  struct Row {
    std::vector<std::string> values;
    BearerUse use;
  };
  const Row rows[] = {
      {{}, BearerUse::none},
      {{"Bearer vpl_placeholder_0123456789"}, BearerUse::placeholder},
      {{"bearer vpl_placeholder_0123456789"}, BearerUse::placeholder},
      {{"Bearer  vpl_placeholder_0123456789"}, BearerUse::placeholder},
      {{"Bearer vpl_placeholder_012345678"}, BearerUse::other},
      {{"Bearer vpl_placeholder_0123456789x"}, BearerUse::other},
      {{"Bearer eyJreal"}, BearerUse::other},
      {{"Basic vpl_placeholder_0123456789"}, BearerUse::other},
      {{"vpl_placeholder_0123456789"}, BearerUse::other},
      {{"Bearer "}, BearerUse::other},
      {{"Bearer vpl_placeholder_0123456789", "Bearer vpl_placeholder_0123456789"}, BearerUse::other},
  };
  for (const auto& r : rows) {
    http::fields f;
    for (const auto& v : r.values) f.insert(http::field::authorization, v);
    EXPECT_EQ(bearer_use(f, local), r.use) << (r.values.empty() ? "(none)" : r.values.front());
  }
}

TEST(AnswerLogin, ThePlaceholderOnlyForTheIdentitysOwnCredentials) {
  const core::Secret id("client-id-1"), secret("client-secret-1"), local("vpl_local");
  auto body = [](std::string_view i, std::string_view s) {
    return nlohmann::json{{"clientId", i}, {"clientSecret", s}}.dump();
  };
  auto ok = answer_login(body("client-id-1", "client-secret-1"), id, secret, local);
  EXPECT_EQ(ok.status, 200u);
  auto j = nlohmann::json::parse(ok.body);
  EXPECT_EQ(j["accessToken"], "vpl_local");
  EXPECT_EQ(j["tokenType"], "Bearer");
  EXPECT_EQ(j["expiresIn"], placeholder_ttl_s);
  const std::string refused[] = {body("client-id-1", "client-secret-2"), body("client-id-2", "client-secret-1"),
                                 body("", ""), "{}", "not json", R"({"clientId":1,"clientSecret":2})", ""};
  for (const auto& b : refused) {
    auto a = answer_login(b, id, secret, local);
    EXPECT_EQ(a.status, 401u) << b;
    EXPECT_EQ(nlohmann::json::parse(a.body)["error"], "UnauthorizedError") << b;
    EXPECT_EQ(a.body.find("vpl_local"), std::string::npos) << b;
  }
  // With no identity loaded, even empty credentials are refused.
  EXPECT_EQ(answer_login(body("", ""), core::Secret(), core::Secret(), local).status, 401u);
}

TEST(AnswerTokenCall, RenewAndRevokeOfThePlaceholderOnly) {
  const core::Secret local("vpl_local");
  auto body = nlohmann::json{{"accessToken", "vpl_local"}}.dump();
  auto renew = answer_token_call(AuthCall::renew, body, local);
  ASSERT_TRUE(renew);
  EXPECT_EQ(nlohmann::json::parse(renew->body)["accessToken"], "vpl_local");
  auto revoke = answer_token_call(AuthCall::revoke, body, local);
  ASSERT_TRUE(revoke);
  EXPECT_EQ(revoke->status, 200u);
  EXPECT_FALSE(answer_token_call(AuthCall::renew, R"({"accessToken":"eyJother"})", local));
  EXPECT_FALSE(answer_token_call(AuthCall::revoke, "{}", local));
  EXPECT_FALSE(answer_token_call(AuthCall::login, body, local));
}

TEST(TokenRefused, TokenErrorsButNotPermissionErrors) {
  EXPECT_TRUE(token_refused(401, ""));
  EXPECT_TRUE(token_refused(403, R"({"error":"TokenError","message":"Your token has expired"})"));
  EXPECT_FALSE(token_refused(403, R"({"error":"PermissionDenied","message":"You are not allowed to read"})"));
  EXPECT_FALSE(token_refused(403, "<html>Cloudflare</html>"));
  EXPECT_FALSE(token_refused(200, R"({"error":"TokenError"})"));
  EXPECT_FALSE(token_refused(404, ""));
}

}  // namespace
