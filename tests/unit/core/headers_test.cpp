// Rewrite rules, fed hostile header sets. Every expectation is on the resulting field list.
#include "core/headers.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace vp::core {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

http::request_header<> make_request(const Fields& fields) {
  http::request_header<> h;
  h.method(http::verb::get);
  h.target("/api/status");
  h.version(11);
  for (auto const& [n, v] : fields) h.insert(n, v);
  return h;
}

Fields dump(const http::fields& f) {
  Fields out;
  for (auto const& field : f) out.emplace_back(field.name_string(), field.value());
  return out;
}

std::size_t count_ci(const http::fields& f, std::string_view name) {
  std::size_t n = 0;
  for (auto const& field : f) n += beast::iequals(field.name_string(), name) ? 1 : 0;
  return n;
}

ServiceToken token() {
  ServiceToken t;
  t.client_id = Secret("id-0123456789.access");
  t.client_secret = Secret("secret-abcdef0123456789");
  return t;
}

TEST(HopByHop, TableCoversRfc9110AndLegacyFields) {
  for (auto name : {"Connection", "keep-alive", "PROXY-CONNECTION", "TE", "Trailer",
                    "Transfer-Encoding", "Upgrade", "Proxy-Authenticate", "Proxy-Authorization"})
    EXPECT_TRUE(is_hop_by_hop(name)) << name;
  for (auto name : {"Authorization", "Content-Encoding", "Set-Cookie", "Content-Length", "Host"})
    EXPECT_FALSE(is_hop_by_hop(name)) << name;
}

TEST(HopByHop, StripsFieldsNominatedInConnectionInAnyCasing) {
  auto h = make_request({{"Connection", "keep-alive, X-Custom ,x-other"},
                         {"connection", "X-Third"},
                         {"X-CUSTOM", "1"},
                         {"x-other", "2"},
                         {"X-Third", "3"},
                         {"X-Kept", "4"},
                         {"Keep-Alive", "timeout=5"}});
  auto removed = strip_hop_by_hop(h);
  EXPECT_EQ(removed, 6u);
  EXPECT_EQ(dump(h), (Fields{{"X-Kept", "4"}}));
}

TEST(HopByHop, ManyNominationsAcrossConnectionAndProxyConnectionAllGo) {
  // More nominations than strip_hop_by_hop keeps inline, split over both fields, with the
  // nominated fields before and after the Connection fields that name them.
  Fields fields{{"X-N0", "0"}, {"Connection", "X-N0, X-N1, X-N2, X-N3, X-N4, X-N5"}};
  for (int i = 1; i < 6; ++i) fields.emplace_back("x-n" + std::to_string(i), std::to_string(i));
  fields.emplace_back("Proxy-Connection", "X-N6, x-n7, X-N8, X-N9, X-N10");
  for (int i = 6; i < 11; ++i) fields.emplace_back("X-N" + std::to_string(i), std::to_string(i));
  fields.emplace_back("X-Kept", "k");
  auto h = make_request(fields);
  EXPECT_EQ(strip_hop_by_hop(h), 13u);
  EXPECT_EQ(dump(h), (Fields{{"X-Kept", "k"}}));
}

TEST(HopByHop, EmptyAndDegenerateConnectionValues) {
  auto h = make_request({{"Connection", " , ,, "}, {"X-A", "1"}});
  strip_hop_by_hop(h);
  EXPECT_EQ(dump(h), (Fields{{"X-A", "1"}}));
}

TEST(ClientCredentials, AllCfAccessFieldsAndProxyFieldsGoInAnyCasing) {
  auto h = make_request({{"CF-Access-Client-Id", "a"},
                         {"cf-access-client-id", "b"},
                         {"CF-ACCESS-CLIENT-SECRET", "c"},
                         {"cf-access-token", "jwt"},
                         {"Cf-Access-Jwt-Assertion", "jwt2"},
                         {"Proxy-Authorization", "Basic x"},
                         {"Proxy-Foo", "y"},
                         {"Authorization", "Bearer keep"},
                         {"X-CF-Access-Lookalike", "kept"}});
  auto removed = strip_client_credentials(h);
  EXPECT_EQ(removed, 7u);
  EXPECT_EQ(dump(h), (Fields{{"Authorization", "Bearer keep"}, {"X-CF-Access-Lookalike", "kept"}}));
}

TEST(ClientCredentials, AccessCookieRemovedOtherCookiesKeptInOrder) {
  struct Case {
    std::string in;
    std::optional<std::string> out;
  };
  std::vector<Case> cases{
      {"a=1; CF_Authorization=jwt; b=2", "a=1; b=2"},
      {"CF_Authorization=jwt", std::nullopt},
      {"cf_authorization=jwt;a=1", "a=1"},
      {"a=1;  CF_Authorization = jwt ;b=2;", "a=1; b=2"},
      {"a=1; b=2", "a=1; b=2"},
      {"CF_Authorization=x; CF_Authorization=y", std::nullopt},
  };
  for (auto const& c : cases) {
    auto h = make_request({{"Cookie", c.in}});
    strip_client_credentials(h);
    if (c.out) {
      ASSERT_EQ(h.count(http::field::cookie), 1u) << c.in;
      EXPECT_EQ(h[http::field::cookie], *c.out) << c.in;
    } else {
      EXPECT_EQ(h.count(http::field::cookie), 0u) << c.in;
    }
  }
}

TEST(RewriteRequest, InjectsEachFieldExactlyOnceReplacingClientCopies) {
  auto h = make_request({{"Host", "127.0.0.1:2019"},
                         {"host", "evil.example"},
                         {"User-Agent", "axios/1.21.1"},
                         {"user-agent", "second"},
                         {"cf-access-client-id", "forged"},
                         {"CF-Access-Client-Secret", "forged"},
                         {"Accept", "application/json"}});
  auto t = token();
  auto r = rewrite_request(h, {"vault.example:8443", "raxx-vault-proxy/1.0", &t});
  EXPECT_TRUE(r.injected);
  EXPECT_EQ(r.client_credentials_removed, 2u);
  EXPECT_EQ(count_ci(h, "Host"), 1u);
  EXPECT_EQ(count_ci(h, "User-Agent"), 1u);
  EXPECT_EQ(count_ci(h, "CF-Access-Client-Id"), 1u);
  EXPECT_EQ(count_ci(h, "CF-Access-Client-Secret"), 1u);
  EXPECT_EQ(h[http::field::host], "vault.example:8443");
  EXPECT_EQ(h[http::field::user_agent], "raxx-vault-proxy/1.0");
  EXPECT_EQ(h["CF-Access-Client-Id"], "id-0123456789.access");
  EXPECT_EQ(h["CF-Access-Client-Secret"], "secret-abcdef0123456789");
  EXPECT_EQ(h[http::field::accept], "application/json");
}

TEST(RewriteRequest, ConnectionCannotNominateAwayTheInjectedFields) {
  // Stripping runs before injection, so nominating Host or the CF fields removes only the client's.
  auto h = make_request({{"Connection", "Host, CF-Access-Client-Id, User-Agent"}, {"Host", "x"}});
  auto t = token();
  rewrite_request(h, {"vault.example", "ua/1", &t});
  EXPECT_EQ(h[http::field::host], "vault.example");
  EXPECT_EQ(h["CF-Access-Client-Id"], "id-0123456789.access");
  EXPECT_EQ(h[http::field::user_agent], "ua/1");
  EXPECT_EQ(count_ci(h, "Connection"), 0u);
}

TEST(RewriteRequest, AutoAuthReplacesAuthorizationWithTheRealTokenOnlyWhenGivenOne) {
  auto t = token();
  const Secret real("eyJreal.token");
  auto h = make_request({{"Authorization", "Bearer vpl_local"}, {"Accept", "application/json"}});
  auto r = rewrite_request(h, {"vault.example", "ua/1", &t, &real});
  EXPECT_TRUE(r.bearer_replaced);
  EXPECT_EQ(count_ci(h, "Authorization"), 1u);
  EXPECT_EQ(h[http::field::authorization], "Bearer eyJreal.token");
  auto untouched = make_request({{"Authorization", "Bearer someone-else"}});
  auto r2 = rewrite_request(untouched, {"vault.example", "ua/1", &t});
  EXPECT_FALSE(r2.bearer_replaced);
  EXPECT_EQ(untouched[http::field::authorization], "Bearer someone-else");
}

TEST(RewriteRequest, WithoutTokenInjectsNoCredentials) {
  auto h = make_request({{"CF-Access-Client-Id", "client"}});
  auto r = rewrite_request(h, {"vault.example", "ua/1", nullptr});
  EXPECT_FALSE(r.injected);
  EXPECT_EQ(count_ci(h, "CF-Access-Client-Id"), 0u);
}

TEST(RewriteRequest, KeepsEndToEndFieldsUntouchedAndInOrder) {
  auto h = make_request({{"Authorization", "Bearer a.b.c"},
                         {"Accept-Encoding", "gzip, br"},
                         {"Content-Type", "application/json"},
                         {"X-Request-Id", "42"},
                         {"X-Request-Id", "43"}});
  auto t = token();
  rewrite_request(h, {"v", "ua", &t});
  Fields want{{"Authorization", "Bearer a.b.c"},
              {"Accept-Encoding", "gzip, br"},
              {"Content-Type", "application/json"},
              {"X-Request-Id", "42"},
              {"X-Request-Id", "43"}};
  auto got = dump(h);
  got.resize(5);
  EXPECT_EQ(got, want);
}

TEST(RewriteResponse, StripsHopByHopKeepsSetCookieAndEncoding) {
  http::response_header<> h;
  h.result(http::status::ok);
  h.insert("Connection", "close, X-Hop");
  h.insert("X-Hop", "1");
  h.insert("Keep-Alive", "timeout=5");
  h.insert("Transfer-Encoding", "chunked");
  h.insert("Set-Cookie", "a=1");
  h.insert("Set-Cookie", "b=2");
  h.insert("Content-Encoding", "gzip");
  h.insert("Upgrade", "h2c");
  EXPECT_EQ(rewrite_response(h).hop_by_hop_removed, 5u);
  EXPECT_EQ(dump(h), (Fields{{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}, {"Content-Encoding", "gzip"}}));
}

TEST(RewriteResponse, StripsEveryCorsGrantInAnyCasing) {
  http::response_header<> h;
  h.result(http::status::ok);
  h.insert("Access-Control-Allow-Origin", "*");
  h.insert("access-control-allow-credentials", "true");
  h.insert("ACCESS-CONTROL-EXPOSE-HEADERS", "X-Secret");
  h.insert("Access-Control-Max-Age", "86400");
  h.insert("Vary", "Origin");
  h.insert("Access-Controlled", "not a CORS field");
  EXPECT_EQ(rewrite_response(h).cors_removed, 4u);
  EXPECT_EQ(dump(h), (Fields{{"Vary", "Origin"}, {"Access-Controlled", "not a CORS field"}}));
}

TEST(RewriteResponse, RemovesTheAccessJwtCookieAndKeepsEveryOtherCookieInOrder) {
  struct Case {
    std::string set_cookie;
    bool removed;
  };
  const std::vector<Case> cases{
      {"CF_Authorization=eyJhbGciOi.jwt.sig; Path=/; Secure; HttpOnly; SameSite=None", true},
      {"CF_Authorization=", true},
      {" CF_Authorization = x; Path=/", true},
      {"cf_authorization=x", true},
      {"CF_Authorization", true},  // a name alone is still that cookie
      {"CF_AuthorizationX=x", false},
      {"X_CF_Authorization=x", false},
      {"session=CF_Authorization=x", false},
      {"CF_AppSession=abc; Path=/", false},
      {"theme=dark", false},
  };
  for (auto const& c : cases) {
    http::response_header<> h;
    h.result(http::status::ok);
    h.insert("Set-Cookie", "a=1");
    h.insert("Set-Cookie", c.set_cookie);
    h.insert("Set-Cookie", "b=2; Path=/");
    auto r = rewrite_response(h);
    EXPECT_EQ(r.access_cookies_removed, c.removed ? 1u : 0u) << c.set_cookie;
    Fields want{{"Set-Cookie", "a=1"}};
    if (!c.removed) want.push_back({"Set-Cookie", c.set_cookie});
    want.push_back({"Set-Cookie", "b=2; Path=/"});
    EXPECT_EQ(dump(h), want) << c.set_cookie;
  }
}

TEST(RewriteResponse, TheAccessCookieNameInAnotherFieldIsLeftAlone) {
  http::response_header<> h;
  h.result(http::status::ok);
  h.insert("X-Note", "CF_Authorization=x");
  h.insert("Set-Cookie2", "CF_Authorization=x");
  EXPECT_EQ(rewrite_response(h).access_cookies_removed, 0u);
  EXPECT_EQ(dump(h).size(), 2u);
}

TEST(UnderscoreFields, EveryRequestFieldNamedWithAnUnderscoreIsDropped) {
  auto h = make_request({{"CF_Access_Client_Id", "forged"},
                         {"cf_access_client_secret", "forged"},
                         {"Transfer_Encoding", "chunked"},
                         {"X_Forwarded_For", "1.2.3.4"},
                         {"_", "x"},
                         {"X-Request-Id", "keep_me_value_ok"},
                         {"Accept", "application/json"}});
  EXPECT_EQ(strip_underscore_fields(h), 5u);
  EXPECT_EQ(dump(h), (Fields{{"X-Request-Id", "keep_me_value_ok"}, {"Accept", "application/json"}}));
}

TEST(RewriteRequest, CountsUnderscoreFieldsAndNeverForwardsThem) {
  auto h = make_request({{"CF_Access_Client_Secret", "forged"}, {"Host", "127.0.0.1:2019"}});
  auto t = token();
  auto r = rewrite_request(h, {"vault.example", "ua/1", &t});
  EXPECT_EQ(r.underscore_fields_removed, 1u);
  EXPECT_EQ(h["CF-Access-Client-Secret"], "secret-abcdef0123456789");
  EXPECT_EQ(count_ci(h, "CF_Access_Client_Secret"), 0u);
}

}  // namespace
}  // namespace vp::core
