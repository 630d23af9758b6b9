// The response classifier, one row per runbook condition plus look-alikes that must not match.
#include "core/diagnosis.hpp"
#include "core/http.hpp"

#include <gtest/gtest.h>

namespace vp::core {
namespace {

struct Row {
  std::string label;
  ResponseFacts facts;
  Diagnosis want;
};

TEST(Classify, Table) {
  const std::string access_login =
      "https://team.cloudflareaccess.com/cdn-cgi/access/login/vault.raxx.app?kid=abc&redirect_url=%2Fapi";
  const std::vector<Row> rows{
      {"200", {.status = 200}, Diagnosis::none},
      {"204", {.status = 204}, Diagnosis::none},
      {"304", {.status = 304}, Diagnosis::none},
      {"302 to Access login", {.status = 302, .location = access_login}, Diagnosis::cf_access_unauthenticated},
      {"302 to same-host login path", {.status = 302, .location = "/cdn-cgi/access/login/vault"}, Diagnosis::cf_access_unauthenticated},
      {"307 elsewhere", {.status = 307, .location = "https://vault.raxx.app/other"}, Diagnosis::upstream_redirect},
      {"401 empty (Access strict)", {.status = 401}, Diagnosis::cf_access_unauthenticated},
      {"401 html", {.status = 401, .content_type = "text/html", .body = "<html>Forbidden</html>"}, Diagnosis::cf_access_unauthenticated},
      {"403 Access html",
       {.status = 403, .content_type = "text/html; charset=UTF-8", .server = "cloudflare", .has_cf_ray = true,
        .body = "<!DOCTYPE html><title>Access denied | vault.raxx.app used Cloudflare Access</title>"},
       Diagnosis::cf_access_forbidden},
      {"403 Access json deny",
       {.status = 403, .content_type = "application/json", .body = R"({"status_code":403,"aud":"x","ray_id":"8f"})"},
       Diagnosis::cf_access_forbidden},
      {"403 challenge",
       {.status = 403, .content_type = "text/html", .cf_mitigated = "challenge", .body = "Just a moment..."},
       Diagnosis::cf_challenge},
      {"challenge header on 503", {.status = 503, .cf_mitigated = "Challenge"}, Diagnosis::cf_challenge},
      {"1010", {.status = 403, .content_type = "text/plain", .body = "error code: 1010"}, Diagnosis::cf_edge_block},
      {"1020", {.status = 403, .content_type = "text/plain", .body = "error code: 1020"}, Diagnosis::cf_edge_block},
      {"Infisical 401",
       {.status = 401, .content_type = "application/json; charset=utf-8",
        .body = R"({"reqId":"r","statusCode":401,"message":"Invalid credentials","error":"UnauthorizedError"})"},
       Diagnosis::origin_auth},
      {"Infisical 403 TokenError",
       {.status = 403, .content_type = "application/json",
        .body = R"({"statusCode":403,"message":"Your token has expired. Please re-authenticate.","error":"TokenError"})"},
       Diagnosis::origin_auth},
      {"Infisical 403 PermissionDenied",
       {.status = 403, .content_type = "application/json",
        .body = R"({"statusCode":403,"message":"You are not allowed to read on secrets","error":"PermissionDenied"})"},
       Diagnosis::origin_rbac},
      {"Infisical 404", {.status = 404, .content_type = "application/json", .body = R"({"error":"NotFound"})"}, Diagnosis::upstream_client_error},
      {"422", {.status = 422, .content_type = "application/json"}, Diagnosis::upstream_client_error},
      {"500", {.status = 500}, Diagnosis::upstream_server_error},
      {"502 edge", {.status = 502, .server = "cloudflare"}, Diagnosis::upstream_server_error},
      {"JSON 403 with broken JSON", {.status = 403, .content_type = "application/json", .body = "{not json"}, Diagnosis::origin_rbac},
  };
  for (auto const& r : rows) EXPECT_EQ(classify(r.facts), r.want) << r.label;
}

TEST(ResponseFacts, FieldsAreFoundInAnyCasingAndTheBodyIsAViewNotACopy) {
  http::fields f;
  f.set("LOCATION", "https://x.cloudflareaccess.com/cdn-cgi/access/login");
  f.set("content-TYPE", "text/html");
  f.set("CF-Mitigated", "challenge");
  const std::string body = "<html>Forbidden</html>";
  auto facts = response_facts(403u, f, body);
  EXPECT_EQ(facts.status, 403u);
  EXPECT_EQ(facts.location, "https://x.cloudflareaccess.com/cdn-cgi/access/login");
  EXPECT_EQ(facts.content_type, "text/html");
  EXPECT_EQ(facts.cf_mitigated, "challenge");
  EXPECT_EQ(facts.body.data(), body.data());

  auto none = response_facts(502u, http::fields{}, {});
  EXPECT_TRUE(none.location.empty() && none.content_type.empty() && none.cf_mitigated.empty() && none.body.empty());
  EXPECT_EQ(classify(none), Diagnosis::upstream_server_error);
}

TEST(Classify, OnlyCloudflareAnswersAreReplaced) {
  EXPECT_TRUE(replaced_by_proxy(Diagnosis::cf_access_unauthenticated));
  EXPECT_TRUE(replaced_by_proxy(Diagnosis::cf_access_forbidden));
  EXPECT_TRUE(replaced_by_proxy(Diagnosis::cf_challenge));
  EXPECT_TRUE(replaced_by_proxy(Diagnosis::cf_edge_block));
  EXPECT_FALSE(replaced_by_proxy(Diagnosis::origin_auth));
  EXPECT_FALSE(replaced_by_proxy(Diagnosis::origin_rbac));
  EXPECT_FALSE(replaced_by_proxy(Diagnosis::upstream_redirect));
  EXPECT_FALSE(replaced_by_proxy(Diagnosis::none));
}

TEST(Classify, LoginRedirectBecomes401OthersKeepStatus) {
  EXPECT_EQ(replaced_status(Diagnosis::cf_access_unauthenticated, 302), 401u);
  EXPECT_EQ(replaced_status(Diagnosis::cf_access_unauthenticated, 401), 401u);
  EXPECT_EQ(replaced_status(Diagnosis::cf_access_forbidden, 403), 403u);
}

// response_facts reads only what classify needs for the status; the verdict must be the one the
// full facts give, for every status class and for pages that look like Cloudflare's.
TEST(Classify, FactsReadFromTheFieldsGiveTheSameVerdictAsAllOfThem) {
  const std::string login = "https://team.cloudflareaccess.com/cdn-cgi/access/login/vault?kid=1";
  const std::vector<std::vector<std::pair<std::string, std::string>>> field_sets{
      {{"Location", login}, {"Content-Type", "text/html"}, {"CF-Ray", "8f-LHR"}, {"Server", "cloudflare"}},
      {{"cf-mitigated", "challenge"}, {"content-type", "text/html"}},
      {{"Content-Type", "application/json"}},
      {},
  };
  const std::string body = R"({"error":"TokenError","message":"x"})";
  for (unsigned status : {200u, 204u, 301u, 302u, 304u, 401u, 403u, 404u, 500u, 502u}) {
    for (const auto& fields : field_sets) {
      http::fields f;
      for (const auto& [n, v] : fields) f.insert(n, v);
      ResponseFacts all{.status = status, .location = f["location"], .content_type = f["content-type"],
                        .cf_mitigated = f["cf-mitigated"], .server = f["server"], .has_cf_ray = f.count("cf-ray") > 0,
                        .body = body};
      auto lazy = response_facts(status, f, body);
      EXPECT_EQ(classify(lazy), classify(all)) << status << " " << fields.size();
      if (status < 300) EXPECT_TRUE(lazy.location.empty() && lazy.content_type.empty()) << status;
    }
  }
}

TEST(Classify, MessagesNameCloudflareAccessAndTheFix) {
  for (auto d : {Diagnosis::cf_access_unauthenticated, Diagnosis::cf_access_forbidden}) {
    std::string m(diagnosis_message(d));
    EXPECT_NE(m.find("Cloudflare Access"), std::string::npos);
    EXPECT_NE(m.find("CF_ACCESS_CLIENT_ID"), std::string::npos);
  }
  EXPECT_EQ(diagnosis_name(Diagnosis::none), "");
  EXPECT_EQ(diagnosis_name(Diagnosis::cf_edge_block), "cf_edge_block");
}

}  // namespace
}  // namespace vp::core
