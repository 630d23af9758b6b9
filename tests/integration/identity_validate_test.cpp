// `vault-proxy identity validate` (issue 15): the runbook's step 10 against the fake's RBAC. It PASSes
// on a correctly scoped identity, FAILs on a too-broad one, logs in exactly once, and deletes a canary
// that an identity with write permission managed to create.

#include "support/admin_cli.hpp"
#include "support/secrets.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace vp::test;
using json = nlohmann::json;

const std::string kName = "agent-one";
const std::string kGlob = "/MooseQuest/agent/**";

class Validate : public AdminCliTest {
 protected:
  void SetUp() override {
    AdminCliTest::SetUp();
    vault_->put_secret("prod", "/MooseQuest/agent", "KNOWN", "known-" + random_token(10));
    vault_->put_secret("prod", "/MooseQuest/cloudflare", "CF", "cf-" + random_token(10));
  }
  void provision(const std::string& glob = kGlob) {
    auto r = cli({"identity", "provision", kName, "--path-glob", glob, "--allow-broad"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
  }
  CliRun validate(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"identity", "validate", kName, "--in-scope", "KNOWN@/MooseQuest/agent",
                                  "--out-of-scope", "/MooseQuest/cloudflare"};
    args.insert(args.end(), extra.begin(), extra.end());
    return cli(args);
  }
  std::string client_id() { return vault_->identity(kName)->client_id; }
  std::string status_of(const json& j, const std::string& check) {
    for (auto& s : j["steps"])
      if (s["step"] == check) return s["status"];
    return "<absent>";
  }
};

TEST_F(Validate, ACorrectlyScopedIdentityPassesEveryCheckWithOneLogin) {
  provision();
  auto r = validate();
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  for (const char* check : {"auth", "in-scope read", "out-of-scope read", "write", "delete"})
    EXPECT_NE(r.out.find(check), std::string::npos) << check;
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
  EXPECT_EQ(vault_->logins(client_id()), 1u);
  EXPECT_EQ(vault_->live_tokens(), 0u);
}

TEST_F(Validate, ATooBroadPrivilegeFailsTheOutOfScopeRead) {
  provision("/MooseQuest/**");
  auto r = validate({"--json"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(status_of(j, "auth"), "PASS");
  EXPECT_EQ(status_of(j, "in-scope read"), "PASS");
  EXPECT_EQ(status_of(j, "out-of-scope read"), "FAIL");
  EXPECT_EQ(status_of(j, "write"), "PASS");
}

TEST_F(Validate, AnIdentityThatCanWriteFailsLoudlyAndItsCanaryIsDeletedAsAdmin) {
  provision();
  vault_->add_privilege(vault_->identity(kName)->id, {"extra", {"create"}, "prod", kGlob});
  auto r = validate({"--json"});
  EXPECT_EQ(r.code, 1);
  auto j = json::parse(r.out);
  EXPECT_EQ(status_of(j, "write"), "FAIL");
  EXPECT_EQ(status_of(j, "canary cleanup"), "PASS");
  EXPECT_NE(r.out.find("THE IDENTITY CAN WRITE"), std::string::npos);
  // No canary is left behind.
  for (auto& req : upstream_->requests())
    if (req.method == "POST" && req.target.find("VP_CANARY_") != std::string::npos) {
      const std::string key = req.target.substr(req.target.find("VP_CANARY_"), 22);
      EXPECT_FALSE(vault_->secret_value("prod", "/MooseQuest/agent", key)) << key;
    }
}

TEST_F(Validate, CredentialsFromTheEnvironmentAreUsedAndAWrongSecretIsTriedOnce) {
  provision();
  const std::string wrong = "wrong-" + random_token(16);
  extra_secrets_.push_back(wrong);
  auto r = validate({});
  ASSERT_EQ(r.code, 0);
  auto bad = cli({"identity", "validate", kName, "--in-scope", "KNOWN@/MooseQuest/agent", "--out-of-scope",
                  "/MooseQuest/cloudflare"},
                 {{"INFISICAL_MCP_CLIENT_ID", client_id()}, {"INFISICAL_MCP_CLIENT_SECRET", wrong}});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("auth"), std::string::npos);
  EXPECT_EQ(vault_->logins(client_id()), 2u);  // one per run
}

TEST_F(Validate, UsageErrorsSendNothing) {
  EXPECT_EQ(cli({"identity", "validate", kName, "--in-scope", "NOPATH", "--out-of-scope", "/x"}).code, 2);
  EXPECT_EQ(cli({"identity", "validate", kName, "--in-scope", "K@/a", "--out-of-scope", "x"}).code, 2);
  auto plan = cli({"identity", "validate", kName, "--in-scope", "K@/a", "--out-of-scope", "/x", "--dry-run"});
  EXPECT_EQ(plan.code, 0);
  EXPECT_NE(plan.out.find("VP_CANARY_"), std::string::npos) << plan.out;
  EXPECT_EQ(upstream_->request_count(), 0u);
}

}  // namespace
