// core/policy: globs, the read-only preset, and decide() on request facts.

#include "core/policy.hpp"

#include <gtest/gtest.h>

namespace {

using namespace vp;
using namespace vp::core;
using http::verb;

TEST(GlobMatch, SegmentsStarsAndDoubleStars) {
  struct Row {
    const char* pattern;
    const char* text;
    bool match;
  };
  const Row rows[] = {
      {"/app", "/app", true},          {"/app", "/app/x", false},        {"/app/*", "/app/x", true},
      {"/app/*", "/app/x/y", false},   {"/app/**", "/app", true},        {"/app/**", "/app/x/y/z", true},
      {"/app/**", "/apps", false},     {"/app/**", "/", false},          {"**", "/anything/at/all", true},
      {"/**", "/", true},              {"/a/**/z", "/a/z", true},        {"/a/**/z", "/a/b/c/z", true},
      {"/a/**/z", "/a/b/c/y", false},  {"/a*/b", "/abc/b", true},        {"/a*/b", "/a/c/b", false},
      {"d?v", "dev", true},            {"d?v", "dv", false},             {"prod*", "production", true},
      {"*", "", true},                 {"", "", true},                   {"", "x", false},
      {"/api/v*/secrets/**", "/api/v3/secrets/raw/X", true},
      {"/**/**/**/x", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/y", false},
  };
  for (const auto& r : rows) EXPECT_EQ(glob_match(r.pattern, r.text), r.match) << r.pattern << " ~ " << r.text;
}

Decision decide_target(const Policy& p, verb m, const char* target, const char* body = nullptr) {
  auto call = classify_api(m, target);
  if (body) add_body_facts(call, body);
  return decide(http::to_string(m), call, p);
}

TEST(ReadOnlyPreset, ReadsAndLoginsPassEverythingElseIsRefused) {
  const auto p = read_only_policy();
  struct Row {
    verb m;
    const char* target;
    Verdict verdict;
    const char* rule;
  };
  const Row rows[] = {
      {verb::get, "/api/v3/secrets/raw/A?environment=dev&workspaceId=p", Verdict::allow, "read secrets"},
      {verb::get, "/api/v3/secrets/raw?environment=dev&workspaceId=p", Verdict::allow, "read secrets"},
      {verb::head, "/api/v4/secrets?environment=dev", Verdict::allow, "read secrets"},
      {verb::get, "/api/v1/folders?environment=dev", Verdict::allow, "read folders"},
      {verb::post, "/api/v1/auth/universal-auth/login", Verdict::allow, "log in"},
      {verb::post, "/api/v1/auth/token/renew", Verdict::allow, "renew the token"},
      {verb::get, "/api/status", Verdict::allow, "status"},
      {verb::post, "/api/v3/secrets/raw/A", Verdict::refuse, "no allow rule"},
      {verb::patch, "/api/v3/secrets/raw/A", Verdict::refuse, "no allow rule"},
      {verb::delete_, "/api/v3/secrets/raw/A", Verdict::refuse, "no allow rule"},
      {verb::post, "/api/v3/secrets/batch/raw", Verdict::refuse, "no allow rule"},
      {verb::post, "/api/v1/folders", Verdict::refuse, "no allow rule"},
      {verb::post, "/api/v1/auth/token/revoke", Verdict::refuse, "no allow rule"},
      {verb::post, "/api/v1/identities", Verdict::refuse, "no allow rule"},
      {verb::get, "/api/v1/identities", Verdict::refuse, "no allow rule"},
      {verb::get, "/api/v1/workspace", Verdict::refuse, "no allow rule"},
      {verb::get, "/", Verdict::refuse, "no allow rule"},
      {verb::get, "/api/v3/secrets/raw/..%2Fx", Verdict::refuse, "ambiguous path"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.target);
    auto d = decide_target(p, r.m, r.target);
    EXPECT_EQ(d.verdict, r.verdict);
    EXPECT_EQ(d.rule, r.rule);
    EXPECT_EQ(d.message.empty(), r.verdict == Verdict::allow);
  }
}

TEST(ReadOnlyPreset, TheRefusalSaysWhatWasRefusedAndWhatIsAllowed) {
  auto d = decide_target(read_only_policy(), verb::post, "/api/v3/secrets/raw/NEW", R"({"environment":"dev","secretPath":"/app"})");
  EXPECT_EQ(d.message,
            "vault-proxy's local policy \"read-only\" refused create-secret dev:/app/NEW (POST /api/v3/secrets/raw/NEW): "
            "no rule allows it. This proxy is read-only: it allows reads of secrets and folders, logins, token "
            "renewals and /api/status; ask the operator to run a proxy without the policy for anything else");
}

Policy scoped() {
  Policy p{.name = "app-dev"};
  p.deny.push_back(PolicyRule{.name = "never prod", .environment = "prod"});
  p.allow.push_back(PolicyRule{.name = "read app in dev",
                               .methods = {"GET"},
                               .operations = {ApiOp::read_secret, ApiOp::list_secrets},
                               .environment = "dev",
                               .secret_path = "/app/**"});
  p.allow.push_back(PolicyRule{.name = "write app/tmp",
                               .methods = {"POST", "PATCH"},
                               .environment = "dev",
                               .secret_path = "/app/tmp"});
  p.allow.push_back(PolicyRule{.name = "login", .operations = {ApiOp::login}});
  p.allow.push_back(PolicyRule{.name = "web ui", .methods = {"GET"}, .path = "/assets/**"});
  return p;
}

TEST(Decide, ScopedRulesOnEnvironmentAndSecretPath) {
  const auto p = scoped();
  struct Row {
    verb m;
    const char* target;
    const char* body;
    Verdict verdict;
    const char* rule;
  };
  const Row rows[] = {
      {verb::get, "/api/v3/secrets/raw/A?environment=dev&secretPath=/app", nullptr, Verdict::allow, "read app in dev"},
      {verb::get, "/api/v3/secrets/raw/A?environment=dev&secretPath=/app/db", nullptr, Verdict::allow, "read app in dev"},
      {verb::get, "/api/v3/secrets/raw/A?environment=dev&secretPath=/", nullptr, Verdict::refuse, "no allow rule"},
      {verb::get, "/api/v3/secrets/raw/A?environment=stg&secretPath=/app", nullptr, Verdict::refuse, "no allow rule"},
      {verb::get, "/api/v3/secrets/raw/A?environment=prod&secretPath=/app", nullptr, Verdict::refuse, "never prod"},
      {verb::get, "/api/v3/secrets/raw?environment=dev&secretPath=/app&recursive=true", nullptr, Verdict::allow,
       "read app in dev"},
      // The query names no environment: the vault answers 400 anyway; nothing matches.
      {verb::get, "/api/v3/secrets/raw/A", nullptr, Verdict::refuse, "no allow rule"},
      // Writes: the environment is in the body.
      {verb::post, "/api/v3/secrets/raw/A", nullptr, Verdict::need_body, ""},
      // The query's values do not decide a write: the body's replace them.
      {verb::post, "/api/v3/secrets/raw/A?environment=dev&secretPath=/app/tmp", nullptr, Verdict::need_body, ""},
      {verb::post, "/api/v3/secrets/raw/A", R"({"environment":"dev","secretPath":"/app/tmp"})", Verdict::allow,
       "write app/tmp"},
      {verb::post, "/api/v3/secrets/raw/A", R"({"environment":"dev","secretPath":"/app"})", Verdict::refuse,
       "no allow rule"},
      {verb::post, "/api/v3/secrets/raw/A", R"({"environment":"prod","secretPath":"/app/tmp"})", Verdict::refuse,
       "never prod"},
      {verb::post, "/api/v3/secrets/raw/A", "not json", Verdict::refuse, "no allow rule"},
      {verb::post, "/api/v1/auth/universal-auth/login", nullptr, Verdict::allow, "login"},
      {verb::get, "/assets/app.js", nullptr, Verdict::allow, "web ui"},
      {verb::get, "/assets2/app.js", nullptr, Verdict::refuse, "no allow rule"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(std::string(r.target) + (r.body ? r.body : ""));
    auto d = decide_target(p, r.m, r.target, r.body);
    EXPECT_EQ(d.verdict, r.verdict);
    EXPECT_EQ(d.rule, r.rule);
  }
}

TEST(Decide, ARecursiveListNeedsARuleThatCoversTheSubtree) {
  Policy p{.name = "exact"};
  p.allow.push_back(PolicyRule{.name = "app only", .environment = "dev", .secret_path = "/app"});
  auto flat = decide_target(p, verb::get, "/api/v3/secrets/raw?environment=dev&secretPath=/app");
  EXPECT_EQ(flat.verdict, Verdict::allow);
  auto deep = decide_target(p, verb::get, "/api/v3/secrets/raw?environment=dev&secretPath=/app&recursive=true");
  EXPECT_EQ(deep.verdict, Verdict::refuse);
  EXPECT_NE(deep.message.find("rule \"app only\" allows secret path \"/app\" only, and this list is recursive"),
            std::string::npos)
      << deep.message;
}

TEST(Decide, ARefusalNamesTheNearestRule) {
  auto d = decide_target(scoped(), verb::get, "/api/v3/secrets/raw/A?environment=stg&secretPath=/app");
  EXPECT_EQ(d.message,
            "vault-proxy's local policy \"app-dev\" refused read-secret stg:/app/A (GET /api/v3/secrets/raw/A): no "
            "rule allows it; rule \"read app in dev\" allows environment \"dev\" only");
  auto deny = decide_target(scoped(), verb::get, "/api/v3/secrets/raw?environment=prod");
  EXPECT_EQ(deny.message,
            "vault-proxy's local policy \"app-dev\" refused list-secrets prod:/ (GET /api/v3/secrets/raw): deny rule "
            "\"never prod\" matches it");
}

}  // namespace
