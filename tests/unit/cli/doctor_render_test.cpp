// Golden tests of doctor's two renderings from fixed check results, and of the .mcp.json check
// (the one check that is a pure function of a file's text).

#include "cli/doctor_checks.hpp"
#include "cli/doctor_report.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace vp::cli::doctor;

Report sample() {
  Report r;
  r.version = "1.2.3";
  r.proxy = "http://127.0.0.1:2019";
  r.upstream = "https://vault.raxx.app";
  r.checks = {
      {"listener", Status::pass, "vault-proxy is listening on 127.0.0.1:2019", "owner: pid 4242 (vault-proxy)", ""},
      {"access", Status::fail, "Cloudflare Access rejected the service token (cf_access_forbidden)",
       "with the service token: 403 text/html\nwithout a token: 403 text/html",
       "Refresh the service token (failure mode B)."},
      {"identity-login", Status::skip, "skipped: identity variables are not set", "", ""},
      {"mcp-json", Status::warn, "'infisical' points at this proxy, but NO_PROXY is missing", "", "Add NO_PROXY."},
  };
  return r;
}

TEST(DoctorRender, TableGolden) {
  const std::string expected =
      "vault-proxy doctor 1.2.3: proxy http://127.0.0.1:2019, upstream https://vault.raxx.app\n"
      "\n"
      "CHECK           STATUS  MESSAGE\n"
      "listener        PASS    vault-proxy is listening on 127.0.0.1:2019\n"
      "                        detail: owner: pid 4242 (vault-proxy)\n"
      "access          FAIL    Cloudflare Access rejected the service token (cf_access_forbidden)\n"
      "                        detail: with the service token: 403 text/html\n"
      "                                without a token: 403 text/html\n"
      "                        fix:    Refresh the service token (failure mode B).\n"
      "identity-login  SKIP    skipped: identity variables are not set\n"
      "mcp-json        WARN    'infisical' points at this proxy, but NO_PROXY is missing\n"
      "                        fix:    Add NO_PROXY.\n"
      "\n"
      "PROBLEMS FOUND: 1 failed, 1 warning, 1 passed, 1 skipped\n";
  EXPECT_EQ(render_table(sample()), expected);
}

TEST(DoctorRender, TableWrapsLongTextUnderItsColumnAndKeepsLongWordsWhole) {
  Report r;
  r.version = "1.2.3";
  r.proxy = "http://127.0.0.1:2019";
  r.upstream = "https://vault.test";
  r.checks = {{"access", Status::fail, "m", "",
               "one two three four five six seven eight nine ten eleven twelve "
               "https://team.cloudflareaccess.com/cdn-cgi/access/login/vault.test end"}};
  // width 60: the message column starts at 16, fix text at 24, so fix lines hold 36 characters.
  const std::string expected =
      "vault-proxy doctor 1.2.3: proxy http://127.0.0.1:2019, upstream https://vault.test\n"
      "\n"
      "CHECK   STATUS  MESSAGE\n"
      "access  FAIL    m\n"
      "                fix:    one two three four five six seven\n"
      "                        eight nine ten eleven twelve\n"
      "                        https://team.cloudflareaccess.com/cdn-cgi/access/login/vault.test\n"
      "                        end\n"
      "\n"
      "PROBLEMS FOUND: 1 failed, 0 warnings, 0 passed, 0 skipped\n";
  EXPECT_EQ(render_table(r, 60), expected);
}

TEST(DoctorRender, AllPassingSummarySaysOk) {
  Report r;
  r.version = "1.2.3";
  r.proxy = "http://127.0.0.1:2019";
  r.upstream = "https://vault.raxx.app";
  r.checks = {{"listener", Status::pass, "ok", "", ""}, {"identity-login", Status::skip, "skipped", "", ""}};
  auto out = render_table(r);
  EXPECT_NE(out.find("\nOK: 0 failed, 0 warnings, 1 passed, 1 skipped\n"), std::string::npos) << out;
}

TEST(DoctorRender, JsonGolden) {
  const std::string expected = R"json({
  "version": "1.2.3",
  "proxy": "http://127.0.0.1:2019",
  "upstream": "https://vault.raxx.app",
  "ok": false,
  "summary": {
    "pass": 1,
    "warn": 1,
    "fail": 1,
    "skip": 1
  },
  "checks": [
    {
      "name": "listener",
      "status": "pass",
      "message": "vault-proxy is listening on 127.0.0.1:2019",
      "detail": "owner: pid 4242 (vault-proxy)",
      "fix": ""
    },
    {
      "name": "access",
      "status": "fail",
      "message": "Cloudflare Access rejected the service token (cf_access_forbidden)",
      "detail": "with the service token: 403 text/html\nwithout a token: 403 text/html",
      "fix": "Refresh the service token (failure mode B)."
    },
    {
      "name": "identity-login",
      "status": "skip",
      "message": "skipped: identity variables are not set",
      "detail": "",
      "fix": ""
    },
    {
      "name": "mcp-json",
      "status": "warn",
      "message": "'infisical' points at this proxy, but NO_PROXY is missing",
      "detail": "",
      "fix": "Add NO_PROXY."
    }
  ]
}
)json";
  EXPECT_EQ(render_json(sample()), expected);
}

TEST(DoctorRender, OkIgnoresWarningsAndSkipsButNotFailures) {
  Report r = sample();
  EXPECT_FALSE(r.ok());
  r.checks[1].status = Status::warn;
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.count(Status::warn), 2u);
}

TEST(DoctorRender, JsonEscapesControlAndInvalidBytes) {
  Report r = sample();
  r.checks[0].detail = std::string("tab\there, quote \" and a stray byte \xff");
  auto j = nlohmann::json::parse(render_json(r));  // must stay valid JSON
  EXPECT_EQ(j["checks"][0]["detail"].get<std::string>().substr(0, 8), "tab\there");
}

// ---- .mcp.json (failure mode E)

constexpr const char* good_entry = R"json({"mcpServers": {
  "other": {"command": "node", "args": ["x.js"]},
  "infisical": {"command": "npx", "args": ["-y", "@infisical/mcp@0.0.24"],
    "env": {"INFISICAL_HOST_URL": "http://127.0.0.1:2019",
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID": "${INFISICAL_MCP_CLIENT_ID}",
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET": "${INFISICAL_MCP_CLIENT_SECRET}",
            "NO_PROXY": "localhost,127.0.0.1,::1"}}}})json";

std::string with_host_url(const std::string& url) {
  std::string s = good_entry;
  auto pos = s.find("http://127.0.0.1:2019");
  return s.replace(pos, std::string("http://127.0.0.1:2019").size(), url);
}

/// The shell Claude Code starts from: the identity's two variables are exported.
vp::config::Env identity_env(std::map<std::string, std::string> more = {}) {
  more.emplace("INFISICAL_MCP_CLIENT_ID", "id-1");
  more.emplace("INFISICAL_MCP_CLIENT_SECRET", "secret-1");
  return vp::config::map_env(std::move(more));
}

/// The check on a file at `path` (shown as given), in identity_env() unless another is passed.
CheckResult evaluate(const std::string& path, const std::optional<std::string>& text, const std::string& host,
                     std::uint16_t port, const vp::config::Env& env = identity_env(), bool required = false) {
  return evaluate_mcp_json({path, path, required}, text, host, port, env);
}

TEST(DoctorMcpJson, EntryForThisProxyPasses) {
  auto c = evaluate(".mcp.json", std::string(good_entry), "127.0.0.1", 2019);
  EXPECT_EQ(c.name, "mcp-json");
  EXPECT_EQ(c.status, Status::pass) << c.message;
  EXPECT_EQ(c.message, "'infisical' points at this proxy (http://127.0.0.1:2019)");
}

TEST(DoctorMcpJson, LocalhostAndTrailingSlashCountAsThisProxy) {
  auto c = evaluate("f", with_host_url("http://localhost:2019/"), "127.0.0.1", 2019);
  EXPECT_EQ(c.status, Status::pass) << c.message;
}

TEST(DoctorMcpJson, MissingFileIsAWarningThatNamesMcpConfig) {
  // Runbook step 2 comes before step 4, which writes the file: its absence alone is not a failure.
  auto c = evaluate("/repo/.mcp.json", std::nullopt, "127.0.0.1", 2019);
  EXPECT_EQ(c.status, Status::warn);
  EXPECT_EQ(c.message, "no .mcp.json yet at /repo/.mcp.json: Claude Code has no get-secret tool until there is one");
  EXPECT_NE(c.fix.find("vault-proxy mcp-config"), std::string::npos);
}

TEST(DoctorMcpJson, MissingFileFailsWhenRequired) {
  auto c = evaluate("/repo/.mcp.json", std::nullopt, "127.0.0.1", 2019, identity_env(), /*required=*/true);
  EXPECT_EQ(c.status, Status::fail);
  EXPECT_EQ(c.message, "/repo/.mcp.json does not exist, so Claude Code has no get-secret tool (failure mode E)");
  EXPECT_NE(c.fix.find("vault-proxy mcp-config"), std::string::npos);
}

TEST(DoctorMcpJson, APresentButBrokenFileStillFails) {
  EXPECT_EQ(evaluate("f", std::string("{\"mcpServers\": "), "127.0.0.1", 2019).status, Status::fail);
  EXPECT_EQ(evaluate("f", std::string("{}"), "127.0.0.1", 2019).status, Status::fail);
}

TEST(DoctorMcpJson, EachUnsetVariableTheEntryReferencesIsNamed) {
  auto c = evaluate("f", std::string(good_entry), "127.0.0.1", 2019,
                    vp::config::map_env({{"INFISICAL_MCP_CLIENT_ID", "id-1"}}));
  EXPECT_EQ(c.status, Status::fail);
  EXPECT_EQ(c.message, "the 'infisical' entry references variables that are not set here: INFISICAL_MCP_CLIENT_SECRET");
  EXPECT_NE(c.fix.find("Export INFISICAL_MCP_CLIENT_SECRET"), std::string::npos) << c.fix;

  auto none = evaluate("f", std::string(good_entry), "127.0.0.1", 2019, vp::config::map_env({}));
  EXPECT_NE(none.message.find("INFISICAL_MCP_CLIENT_ID, INFISICAL_MCP_CLIENT_SECRET"), std::string::npos)
      << none.message;
  // A reference with a default is never unset.
  auto with_default = evaluate("f", with_host_url("${VAULT_PROXY_URL:-http://127.0.0.1:2019}"), "127.0.0.1", 2019);
  EXPECT_EQ(with_default.status, Status::pass) << with_default.message;
}

TEST(DoctorMcpJson, WrongPortSaysWhichPorts) {
  auto c = evaluate("f", with_host_url("http://127.0.0.1:2020"), "127.0.0.1", 2019);
  EXPECT_EQ(c.status, Status::fail);
  EXPECT_EQ(c.message, "INFISICAL_HOST_URL of 'infisical' points at port 2020, but the proxy is configured for port 2019");
}

TEST(DoctorMcpJson, ApiSuffixFails) {
  auto c = evaluate("f", with_host_url("http://127.0.0.1:2019/api"), "127.0.0.1", 2019);
  EXPECT_EQ(c.status, Status::fail);
  EXPECT_NE(c.message.find("ends in /api"), std::string::npos) << c.message;
}

TEST(DoctorMcpJson, PointingAtTheVaultDirectlyFails) {
  auto c = evaluate("f", with_host_url("https://vault.raxx.app"), "127.0.0.1", 2019);
  EXPECT_EQ(c.status, Status::fail);
  EXPECT_NE(c.message.find("not at this proxy"), std::string::npos) << c.message;
}

TEST(DoctorMcpJson, AHostUrlReferenceIsExpandedAsClaudeCodeWouldAndThenChecked) {
  const std::string ref = "${VAULT_PROXY_URL:-http://127.0.0.1:2019}";
  // Outside `vault-proxy run`: the default, the configured port.
  auto outside = evaluate("f", with_host_url(ref), "127.0.0.1", 2019);
  EXPECT_EQ(outside.status, Status::pass) << outside.message;
  EXPECT_NE(outside.detail.find("expands here to http://127.0.0.1:2019"), std::string::npos) << outside.detail;
  // Inside `vault-proxy run --port 0`: the run's URL and port.
  auto inside = evaluate("f", with_host_url(ref), "127.0.0.1", 41234,
                         identity_env({{"VAULT_PROXY_URL", "http://127.0.0.1:41234"}}));
  EXPECT_EQ(inside.status, Status::pass) << inside.message;
  // A variable that leads elsewhere is caught like a literal URL.
  auto elsewhere = evaluate("f", with_host_url(ref), "127.0.0.1", 2019,
                            identity_env({{"VAULT_PROXY_URL", "https://vault.raxx.app"}}));
  EXPECT_EQ(elsewhere.status, Status::fail);
  EXPECT_NE(elsewhere.message.find("not at this proxy"), std::string::npos) << elsewhere.message;
  // A reference without a default, unset: named.
  auto unset = evaluate("f", with_host_url("${VAULT_PROXY_URL}"), "127.0.0.1", 2019);
  EXPECT_EQ(unset.status, Status::fail);
  EXPECT_NE(unset.message.find("VAULT_PROXY_URL"), std::string::npos) << unset.message;
}

TEST(DoctorMcpJson, NoInfisicalEntryIsModeE) {
  auto c = evaluate("f", std::string(R"({"mcpServers": {"other": {"command": "node"}}})"), "127.0.0.1", 2019);
  EXPECT_EQ(c.status, Status::fail);
  EXPECT_NE(c.message.find("no Infisical MCP server entry"), std::string::npos) << c.message;
}

TEST(DoctorMcpJson, InvalidJsonNeverQuotesTheFile) {
  const std::string secret = "s3cr3t-value-that-must-not-print";
  auto c = evaluate("f", "{\"mcpServers\": {\"x\": " + secret + "}}", "127.0.0.1", 2019);
  EXPECT_EQ(c.status, Status::fail);
  for (const std::string* s : {&c.message, &c.detail, &c.fix}) EXPECT_EQ(s->find("s3cr3t"), std::string::npos) << *s;
}

TEST(DoctorMcpJson, LiteralSecretIsAWarningWithItsLengthOnly) {
  std::string text = good_entry;
  const std::string literal = "literal-client-secret-value";
  text.replace(text.find("${INFISICAL_MCP_CLIENT_SECRET}"), std::string("${INFISICAL_MCP_CLIENT_SECRET}").size(), literal);
  auto c = evaluate("f", text, "127.0.0.1", 2019);
  EXPECT_EQ(c.status, Status::warn);
  EXPECT_NE(c.message.find("len=" + std::to_string(literal.size())), std::string::npos) << c.message;
  for (const std::string* s : {&c.message, &c.detail, &c.fix}) EXPECT_EQ(s->find(literal), std::string::npos) << *s;
}

TEST(DoctorMcpJson, MissingNoProxyIsAWarning) {
  std::string text = good_entry;
  text.replace(text.find(",\n            \"NO_PROXY\""), std::string(",\n            \"NO_PROXY\": \"localhost,127.0.0.1,::1\"").size(), "");
  auto c = evaluate("f", text, "127.0.0.1", 2019);
  EXPECT_EQ(c.status, Status::warn) << c.message;
  EXPECT_NE(c.message.find("NO_PROXY"), std::string::npos) << c.message;
}

}  // namespace
