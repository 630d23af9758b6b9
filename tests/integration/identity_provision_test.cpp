// `vault-proxy identity provision` (issue 15) against the fake Infisical admin API: the runbook's
// steps in order, the RULES enforced (read only, no broad glob, foreign identities left alone),
// idempotent re-runs, and a failure injected at each step leaving no active client secret that is
// not stored; a re-run then finishes the job. Every output is grepped for every secret.

#include "support/admin_cli.hpp"
#include "support/secrets.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace vp::test;
using json = nlohmann::json;

const std::string kName = "agent-one";
const std::string kPlace = "/MooseQuest/identities/agent-one";
const std::string kGlob = "/MooseQuest/agent/**";

class Provision : public AdminCliTest {
 protected:
  CliRun provision(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"identity", "provision", kName, "--path-glob", kGlob};
    args.insert(args.end(), extra.begin(), extra.end());
    return cli(args);
  }
  /// No client secret of the identity is active unless it is the one stored.
  void expect_no_orphan() {
    auto i = vault_->identity(kName);
    if (!i) return;
    auto stored = vault_->secret_value("prod", kPlace, "AGENT_ONE_CLIENT_SECRET");
    for (auto& s : i->secrets)
      if (!s.revoked) {
        EXPECT_EQ(stored, s.value) << "client secret " << s.id << " is active but not the stored one";
      }
  }
  std::size_t active_secrets() {
    auto i = vault_->identity(kName);
    std::size_t n = 0;
    if (i)
      for (auto& s : i->secrets) n += s.revoked ? 0 : 1;
    return n;
  }
};

TEST_F(Provision, RunsTheRunbookStepsAndStoresTheSecretWithTheClientId) {
  auto r = provision();
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto i = vault_->identity(kName);
  ASSERT_TRUE(i);
  EXPECT_EQ(i->metadata, (std::vector<std::pair<std::string, std::string>>{{"managed-by", "vault-proxy"}}));
  EXPECT_TRUE(i->universal_auth);
  EXPECT_EQ(i->ttl, 3600);
  EXPECT_EQ(i->max_ttl, 7200);
  ASSERT_EQ(i->secrets.size(), 1u);
  EXPECT_EQ(vault_->secret_value("prod", kPlace, "AGENT_ONE_CLIENT_SECRET"), i->secrets[0].value);
  EXPECT_EQ(vault_->secret_value("prod", kPlace, "AGENT_ONE_CLIENT_ID"), i->client_id);
  EXPECT_TRUE(i->member);
  EXPECT_EQ(i->member_role, "no-access");
  ASSERT_EQ(i->privileges.size(), 1u);
  EXPECT_EQ(i->privileges[0].slug, "agent-one-read");
  EXPECT_EQ(i->privileges[0].actions, std::vector<std::string>{"read"});
  EXPECT_EQ(i->privileges[0].environment, "prod");
  EXPECT_EQ(i->privileges[0].glob, kGlob);
  for (const char* step : {"identity", "universal auth", "client secret", "membership", "privilege"})
    EXPECT_NE(r.out.find(step), std::string::npos) << step;
  EXPECT_EQ(vault_->live_tokens(), 0u);
  EXPECT_EQ(vault_->logins(vault_->options().admin_client_id), 1u);
}

TEST_F(Provision, ARerunFindsEverythingAndChangesNothing) {
  ASSERT_EQ(provision().code, 0);
  auto r = cli({"identity", "provision", kName, "--path-glob", kGlob, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out);
  for (auto& s : j["steps"]) EXPECT_EQ(s["status"], "exists") << s.dump();
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(vault_->identity_count(kName), 1u);
  EXPECT_EQ(vault_->identity(kName)->secrets.size(), 1u);
  EXPECT_EQ(vault_->secret_version("prod", kPlace, "AGENT_ONE_CLIENT_SECRET"), 1);
}

TEST_F(Provision, BroadGlobsAreRefusedUnlessAllowed) {
  for (const char* glob : {"/**", "/*", "/**/x", "/*/a/**", "MooseQuest/**", "/"}) {
    auto r = cli({"identity", "provision", kName, "--path-glob", glob});
    EXPECT_EQ(r.code, 2) << glob;
  }
  EXPECT_EQ(upstream_->request_count(), 0u);
  EXPECT_EQ(cli({"identity", "provision", kName, "--path-glob", "/MooseQuest/**", "--dry-run"}).code, 0);
  EXPECT_EQ(cli({"identity", "provision", kName, "--path-glob", "/**", "--allow-broad", "--dry-run"}).code, 0);
  EXPECT_EQ(upstream_->request_count(), 0u);
}

TEST_F(Provision, AnIdentityThisToolDidNotCreateIsLeftAloneUnlessAdopted) {
  const auto id = vault_->add_identity(kName);
  auto r = provision();
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("not created by vault-proxy"), std::string::npos) << r.out;
  EXPECT_FALSE(vault_->identity(kName)->universal_auth);
  auto adopted = provision({"--adopt"});
  ASSERT_EQ(adopted.code, 0) << adopted.out << adopted.err;
  EXPECT_NE(adopted.out.find("(adopted)"), std::string::npos);
  EXPECT_EQ(vault_->identity(kName)->id, id);
  expect_no_orphan();
}

TEST_F(Provision, AnExistingPrivilegeThatGrantsMoreIsReportedNeverEdited) {
  ASSERT_EQ(provision().code, 0);
  auto other = "agent-two";
  const auto id = vault_->add_identity(other, {{"managed-by", "vault-proxy"}});
  vault_->add_privilege(id, {"agent-two-read", {"read", "create"}, "prod", kGlob});
  auto r = cli({"identity", "provision", other, "--path-glob", kGlob});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("never edits a privilege"), std::string::npos) << r.out;
  EXPECT_EQ(vault_->identity(other)->privileges.size(), 1u);
}

struct Injection {
  const char* method;
  const char* path_part;
};

class ProvisionFailure : public Provision, public ::testing::WithParamInterface<Injection> {};

TEST_P(ProvisionFailure, LeavesNoUnstoredSecretAndARerunFinishes) {
  vault_->fail_next(GetParam().method, GetParam().path_part, 500);
  auto r = provision();
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("failed"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("Run the same command again"), std::string::npos) << r.err;
  expect_no_orphan();
  EXPECT_EQ(vault_->live_tokens(), 0u);
  auto again = provision();
  ASSERT_EQ(again.code, 0) << again.out << again.err;
  expect_no_orphan();
  EXPECT_EQ(active_secrets(), 1u);
  EXPECT_EQ(vault_->identity_count(kName), 1u);
  EXPECT_EQ(vault_->identity(kName)->privileges.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    EachStep, ProvisionFailure,
    ::testing::Values(Injection{"POST", "/api/v1/identities"}, Injection{"POST", "/api/v1/auth/universal-auth/identities/"},
                      Injection{"POST", "/api/v1/folders"}, Injection{"POST", "/client-secrets"},
                      Injection{"POST", "/api/v3/secrets/raw/AGENT_ONE_CLIENT_SECRET"},
                      Injection{"POST", "/api/v3/secrets/raw/AGENT_ONE_CLIENT_ID"},
                      Injection{"POST", "/identity-memberships/"},
                      Injection{"POST", "/identity-project-additional-privilege"}));

TEST_F(Provision, WhenStoringFailsTheNewSecretIsRevokedAtOnce) {
  vault_->fail_next("POST", "/api/v3/secrets/raw/AGENT_ONE_CLIENT_SECRET", 500);
  auto r = provision();
  EXPECT_EQ(r.code, 1);
  auto i = vault_->identity(kName);
  ASSERT_TRUE(i);
  ASSERT_EQ(i->secrets.size(), 1u);
  EXPECT_TRUE(i->secrets[0].revoked);
  EXPECT_NE(r.out.find("could not be stored and was revoked"), std::string::npos) << r.out;
  EXPECT_FALSE(i->member) << "no step after the secret ran";
}

}  // namespace
