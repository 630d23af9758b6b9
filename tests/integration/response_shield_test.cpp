// What must never cross the proxy, whatever either side sends (docs/security.md §5, issue 11):
// Cloudflare's Access JWT cookie on the way back, TRACE (whose echo would carry the injected
// token), and request fields named with '_' (folded into '-' by some servers).

#include "support/proxy_fixture.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;

class ResponseShield : public ProxyTest {
 protected:
  nlohmann::json status_json() {
    auto res = http_get(port(), "/__vault-proxy/status");
    EXPECT_EQ(res.status, 200u);
    return nlohmann::json::parse(res.body, nullptr, false);
  }
};

TEST_F(ResponseShield, TheAccessJwtCookieNeverReachesTheClientAndOtherCookiesPass) {
  start(ProxySetup{}
            .with_env({{"VAULT_PROXY_ACCESS_LOG", "true"}})
            .with_handler([](const RecordedRequest&) {
              Response resp;
              resp.headers = {
                  {"Set-Cookie", "session=s1; Path=/; HttpOnly"},
                  {"Set-Cookie", "CF_Authorization=eyJhbGciOiJSUzI1NiJ9.payload.signature; Path=/; Secure; "
                                 "HttpOnly; SameSite=None"},
                  {"set-cookie", "cf_authorization=lowercase.jwt"},
                  {"Set-Cookie", "theme=dark"},
              };
              resp.body = "ok";
              return resp;
            }));
  auto res = http_get(port(), "/api/v3/secrets/raw");
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.body, "ok");
  EXPECT_EQ(res.values("Set-Cookie"), (std::vector<std::string>{"session=s1; Path=/; HttpOnly", "theme=dark"}))
      << dump(res.headers);
  for (const auto& [name, value] : res.headers)
    EXPECT_EQ(value.find("jwt"), std::string::npos) << name << ": " << value;

  auto j = status_json();
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["headers"]["access_cookies_removed"], 2) << j.dump();
  EXPECT_TRUE(proxy().wait_for_stderr("access_cookies_removed=2", 5s)) << redacted_stderr();
}

TEST_F(ResponseShield, AResponseWithoutTheCookieCountsNothing) {
  start(ProxySetup{}.with_handler([](const RecordedRequest&) {
    Response resp;
    resp.headers = {{"Set-Cookie", "CF_AppSession=abc; Path=/"}};
    return resp;
  }));
  auto res = http_get(port(), "/x");
  EXPECT_EQ(res.values("Set-Cookie"), std::vector<std::string>{"CF_AppSession=abc; Path=/"});
  EXPECT_EQ(status_json()["headers"]["access_cookies_removed"], 0);
}

TEST_F(ResponseShield, TraceIs405AndNothingReachesTheUpstream) {
  start();
  ClientRequest req;
  req.method = "TRACE";
  req.target = "/api/status";
  auto res = http_request(port(), req);
  EXPECT_EQ(res.status, 405u);
  EXPECT_EQ(res.header("X-Vault-Proxy-Error").value_or(""), "method_not_allowed");
  auto allow = res.header("Allow").value_or("");
  EXPECT_FALSE(allow.empty());
  EXPECT_EQ(allow.find("TRACE"), std::string::npos) << allow;
  EXPECT_NE(parse_error_body(res.body).message.find("TRACE"), std::string::npos) << res.body;
  // A request after it proves the refusal did not just lose the first one.
  EXPECT_EQ(http_get(port(), "/after").status, 200u);
  auto reqs = upstream().requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/after");
}

TEST_F(ResponseShield, FieldsNamedWithAnUnderscoreAreDroppedAndCounted) {
  start(ProxySetup{}.with_env({{"VAULT_PROXY_ACCESS_LOG", "true"}}));
  ClientRequest req;
  req.target = "/api/v3/secrets/raw";
  req.headers = {{"CF_Access_Client_Id", "forged-id"},
                 {"cf_access_client_secret", "forged-secret"},
                 {"Transfer_Encoding", "chunked"},
                 {"X-Request-Id", "value_with_underscores"}};
  auto res = http_request(port(), req);
  EXPECT_EQ(res.status, 200u);
  auto reqs = upstream().requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  for (const auto& [name, value] : r.headers) EXPECT_EQ(name.find('_'), std::string::npos) << dump(r.headers);
  EXPECT_EQ(r.raw_header.find("forged"), std::string::npos) << dump(r.headers);
  EXPECT_EQ(r.values("CF-Access-Client-Id"), std::vector<std::string>{client_id});
  EXPECT_EQ(r.values("X-Request-Id"), std::vector<std::string>{"value_with_underscores"});
  EXPECT_FALSE(r.chunked);

  EXPECT_EQ(status_json()["headers"]["underscore_fields_removed"], 3);
  EXPECT_TRUE(proxy().wait_for_stderr("underscore_fields_removed=3", 5s)) << redacted_stderr();
}

}  // namespace
