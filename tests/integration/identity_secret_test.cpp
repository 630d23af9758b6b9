// `vault-proxy secret set` and `secret exec` (issue 15, docs/identities.md) against the fake
// Infisical's admin API: folders created along the path, create then update with versions, values
// read from env, file or stdin and never printed, one admin login and its revoke, the running proxy
// used when there is one, --dry-run sending nothing. Every output is grepped for every secret.

#include "support/admin_cli.hpp"
#include "support/secrets.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace vp::test;
using json = nlohmann::json;

const std::string kPath = "/MooseQuest/identities/agent-one";

class SecretSet : public AdminCliTest {};

TEST_F(SecretSet, CreatesTheMissingFoldersAndTheSecretAndPrintsOnlyKeyAndVersion) {
  const std::string value = "val-" + random_token(20);
  extra_secrets_.push_back(value);
  auto r = cli({"secret", "set", "MCP_RO_CLIENT_SECRET", "--path", kPath, "--from-env", "THE_VALUE"},
               {{"THE_VALUE", value}});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "created folder: /MooseQuest\ncreated folder: /MooseQuest/identities\n"
            "created folder: /MooseQuest/identities/agent-one\nstored: MCP_RO_CLIENT_SECRET v1\n");
  EXPECT_EQ(vault_->secret_value("prod", kPath, "MCP_RO_CLIENT_SECRET"), value);
  // One login, and its token revoked at the end.
  EXPECT_EQ(vault_->logins(vault_->options().admin_client_id), 1u);
  EXPECT_EQ(vault_->live_tokens(), 0u);
  // Straight to the upstream (no proxy runs): the service token went with every request.
  for (auto& req : upstream_->requests()) EXPECT_EQ(req.header("CF-Access-Client-Id"), cf_id);
}

TEST_F(SecretSet, AnExistingSecretGetsANewVersion) {
  vault_->put_secret("prod", kPath, "K", "old-" + random_token(8));
  const std::string value = "new-" + random_token(20);
  extra_secrets_.push_back(value);
  auto r = cli({"secret", "set", "K", "--path", kPath + "/", "--from-env", "V", "--json"}, {{"V", value}});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["stored"]["key"], "K");
  EXPECT_EQ(j["stored"]["version"], 2);
  EXPECT_EQ(j["stored"]["created"], false);
  EXPECT_EQ(j["folders_created"], json::array());
  EXPECT_EQ(vault_->secret_value("prod", kPath, "K"), value);
}

TEST_F(SecretSet, FileAndStdinLoseOneTrailingNewline) {
  const std::string value = "file-" + random_token(20);
  extra_secrets_.push_back(value);
  write_file(files_.file("v"), value + "\n");
  ASSERT_EQ(cli({"secret", "set", "A", "--path", "/x", "--from-file", files_.file("v")}).code, 0);
  EXPECT_EQ(vault_->secret_value("prod", "/x", "A"), value);
  auto r = shell("printf '%s\\n' \"$VAL\" | \"$VP\" secret set B --path /x --env dev --stdin", {{"VAL", value}});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "created folder: /x\nstored: B v1\n");
  EXPECT_EQ(vault_->secret_value("dev", "/x", "B"), value);
}

TEST_F(SecretSet, GoesThroughTheRunningProxy) {
  const auto port = start_proxy();
  const std::string value = "px-" + random_token(20);
  extra_secrets_.push_back(value);
  auto plan = cli({"secret", "set", "K", "--path", "/p", "--from-env", "V", "--dry-run"}, {{"V", value}});
  EXPECT_NE(plan.out.find("the proxy on http://127.0.0.1:" + std::to_string(port)), std::string::npos) << plan.out;
  auto r = cli({"secret", "set", "K", "--path", "/p", "--from-env", "V"}, {{"V", value}, {"CF_ACCESS_CLIENT_ID", ""}});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(vault_->secret_value("prod", "/p", "K"), value);
  EXPECT_TRUE(proxy_->wait_for_stderr("/api/v3/secrets/raw/K", std::chrono::seconds(5)));
}

TEST_F(SecretSet, DryRunSendsNothingAndRedactsTheValue) {
  const std::string value = "dry-" + random_token(20);
  extra_secrets_.push_back(value);
  auto r = cli({"secret", "set", "K", "--path", "/a/b", "--from-env", "V", "--dry-run", "--json"}, {{"V", value}});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(upstream_->request_count(), 0u);
  auto j = json::parse(r.out);
  EXPECT_EQ(j["dry_run"], true);
  ASSERT_GE(j["calls"].size(), 6u);
  EXPECT_EQ(j["calls"].front()["target"], "/api/v1/auth/universal-auth/login");
  EXPECT_EQ(j["calls"].back()["target"], "/api/v1/auth/token/revoke");
  EXPECT_NE(r.out.find("<redacted len=" + std::to_string(value.size()) + ">"), std::string::npos);
}

TEST_F(SecretSet, AFailedWriteSaysWhyExitsOneAndStillRevokesTheAdminToken) {
  vault_->fail_next("POST", "/api/v3/secrets/raw/K", 500);
  const std::string value = "f-" + random_token(20);
  extra_secrets_.push_back(value);
  auto r = cli({"secret", "set", "K", "--path", "/a", "--from-env", "V"}, {{"V", value}});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("K was not stored: POST /api/v3/secrets/raw/K answered 500"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(vault_->live_tokens(), 0u);
}

TEST_F(SecretSet, UsageAndCredentialProblemsExitTwoBeforeAnyCall) {
  EXPECT_EQ(cli({"secret", "set", "K", "--path", "/a"}).code, 2);                        // no source
  EXPECT_EQ(cli({"secret", "set", "K", "--path", "/a", "--from-env", "UNSET_VAR"}).code, 2);
  EXPECT_EQ(cli({"secret", "set", "K;rm", "--path", "/a", "--from-env", "V"}, {{"V", "x"}}).code, 2);
  EXPECT_EQ(cli({"secret", "set", "K", "--path", "/a b", "--from-env", "V"}, {{"V", "x"}}).code, 2);
  auto no_project = cli({"secret", "set", "K", "--path", "/a", "--from-env", "V"},
                        {{"V", "x"}, {"INFISICAL_PROJECT_ID", ""}});
  EXPECT_EQ(no_project.code, 2);
  EXPECT_NE(no_project.err.find("--project"), std::string::npos) << no_project.err;
  auto r = cli({"secret", "set", "K", "--path", "/a", "--from-env", "V"},
               {{"V", "x"}, {"INFISICAL_CLIENT_SECRET", ""}, {"INFISICAL_CLIENT_ID", ""}});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("INFISICAL_CLIENT_ID"), std::string::npos) << r.err;
  EXPECT_EQ(upstream_->request_count(), 0u);
}

TEST_F(SecretSet, AWrongAdminSecretIsTriedExactlyOnce) {
  const std::string wrong = "wrong-" + random_token(16);
  extra_secrets_.push_back(wrong);
  auto r = cli({"secret", "set", "K", "--path", "/a", "--from-env", "V"}, {{"V", "x"}, {"INFISICAL_CLIENT_SECRET", wrong}});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("admin login"), std::string::npos) << r.err;
  EXPECT_EQ(vault_->logins(vault_->options().admin_client_id), 1u);
}

class SecretExec : public AdminCliTest {};

TEST_F(SecretExec, TheCommandGetsTheValuesButNotTheAdminCredentialsAndItsStatusIsReturned) {
  const std::string id = "id-" + random_token(12), secret = "sec-" + random_token(20);
  extra_secrets_.push_back(secret);
  vault_->put_secret("prod", kPath, "MCP_RO_CLIENT_ID", id);
  vault_->put_secret("prod", kPath, "MCP_RO_CLIENT_SECRET", secret);
  // The expected values reach the script through the test's environment, never vault-proxy's argv.
  auto r = cli({"secret", "exec", "--set", "INFISICAL_MCP_CLIENT_ID=MCP_RO_CLIENT_ID@" + kPath, "--set",
                "INFISICAL_MCP_CLIENT_SECRET=MCP_RO_CLIENT_SECRET@" + kPath, "--", "sh", "-c",
                "[ \"$INFISICAL_MCP_CLIENT_SECRET\" = \"$WANT_SECRET\" ] && [ \"$INFISICAL_MCP_CLIENT_ID\" = \"$WANT_ID\" ] "
                "&& [ -z \"$INFISICAL_CLIENT_SECRET$INFISICAL_CLIENT_ID\" ] && echo len=${#INFISICAL_MCP_CLIENT_SECRET} "
                "&& exit 7"},
               {{"WANT_SECRET", secret}, {"WANT_ID", id}});
  EXPECT_EQ(r.code, 7) << r.err;
  EXPECT_EQ(r.out, "len=" + std::to_string(secret.size()) + "\n");
  EXPECT_EQ(vault_->live_tokens(), 0u);
  EXPECT_EQ(vault_->logins(vault_->options().admin_client_id), 1u);
}

TEST_F(SecretExec, AMissingSecretRunsNothingAndExitsOne) {
  auto marker = files_.file("ran");
  auto r = cli({"secret", "exec", "--set", "A=NOPE@/none", "--", "touch", marker});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("reading NOPE@/none for $A failed: 404"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was run"), std::string::npos);
  EXPECT_TRUE(read_file(marker).empty());
  EXPECT_EQ(vault_->live_tokens(), 0u);
}

TEST_F(SecretExec, BadBindingsAndAMissingCommandAreUsageErrors) {
  EXPECT_EQ(cli({"secret", "exec", "--set", "A=NAME", "--", "true"}).code, 2);
  EXPECT_EQ(cli({"secret", "exec", "--set", "1A=N@/p", "--", "true"}).code, 2);
  EXPECT_EQ(cli({"secret", "exec", "--set", "A=N@/p"}).code, 2);
  auto r = cli({"secret", "exec", "--set", "A=N@/p", "--", "vp-no-such-command-xyz"}, {});
  EXPECT_EQ(r.code, 1);  // the secret does not exist: nothing is run
  vault_->put_secret("prod", "/p", "N", "v-" + random_token(12));
  EXPECT_EQ(cli({"secret", "exec", "--set", "A=N@/p", "--", "vp-no-such-command-xyz"}).code, 127);
  EXPECT_EQ(upstream_->request_count() > 0, true);
}

}  // namespace
