// `vault-proxy identity rotate` and `identity revoke` (issue 15): the no-downtime order (create, store,
// verify a login, then revoke the old), --if-older-than for timers, a failure injected at each step
// leaving the old pair working (or saying exactly what is left) and a re-run finishing the job; and
// the leak escalation that revokes every client secret after a confirmation.

#include "support/admin_cli.hpp"
#include "support/secrets.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace vp::test;
using json = nlohmann::json;

const std::string kName = "agent-one";
const std::string kPlace = "/MooseQuest/identities/agent-one";

class Rotate : public AdminCliTest {
 protected:
  void SetUp() override {
    AdminCliTest::SetUp();
    auto r = cli({"identity", "provision", kName, "--path-glob", "/MooseQuest/agent/**"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    old_ = vault_->identity(kName)->secrets.at(0);
  }
  std::optional<std::string> stored() { return vault_->secret_value("prod", kPlace, "AGENT_ONE_CLIENT_SECRET"); }
  std::vector<FakeInfisicalAdmin::ClientSecret> active() {
    std::vector<FakeInfisicalAdmin::ClientSecret> out;
    const auto identity = vault_->identity(kName);
    for (auto& s : identity->secrets)
      if (!s.revoked) out.push_back(s);
    return out;
  }
  /// Exactly one active secret, and it is the stored one.
  void expect_one_stored_active() {
    auto a = active();
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(stored(), a[0].value);
  }
  FakeInfisicalAdmin::ClientSecret old_;
};

TEST_F(Rotate, CreatesStoresVerifiesAndOnlyThenRevokesTheOldSecret) {
  auto r = cli({"identity", "rotate", kName});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  expect_one_stored_active();
  EXPECT_NE(active()[0].id, old_.id);
  EXPECT_EQ(vault_->secret_version("prod", kPlace, "AGENT_ONE_CLIENT_SECRET"), 2);
  EXPECT_EQ(vault_->logins(vault_->identity(kName)->client_id), 1u);
  EXPECT_NE(r.out.find("revoked"), std::string::npos);
  EXPECT_EQ(vault_->live_tokens(), 0u);
  // The verifying login came before the revoke of the old secret.
  std::size_t login_at = 0, revoke_at = 0;
  auto reqs = upstream_->requests();
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    if (reqs[i].target.find("/universal-auth/login") != std::string::npos) login_at = i;
    if (reqs[i].target.find(old_.id + "/revoke") != std::string::npos) revoke_at = i;
  }
  EXPECT_LT(login_at, revoke_at);
}

TEST_F(Rotate, IfOlderThanRotatesOnlyAnOldSecret) {
  auto young = cli({"identity", "rotate", kName, "--if-older-than", "30d", "--json"});
  ASSERT_EQ(young.code, 0) << young.err;
  EXPECT_EQ(json::parse(young.out)["steps"][0]["status"], "not due");
  EXPECT_EQ(active()[0].id, old_.id);
  // An adopted identity whose only secret dates from 2020.
  const auto id = vault_->add_identity("legacy");
  const auto secret = vault_->add_client_secret(id, "2020-01-01T00:00:00Z");
  vault_->put_secret("prod", "/MooseQuest/identities/legacy", "LEGACY_CLIENT_SECRET", secret);
  EXPECT_EQ(cli({"identity", "rotate", "legacy", "--if-older-than", "30d"}).code, 1);  // not ours
  auto r = cli({"identity", "rotate", "legacy", "--if-older-than", "30d", "--adopt"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(vault_->secret_value("prod", "/MooseQuest/identities/legacy", "LEGACY_CLIENT_SECRET"), secret);
  EXPECT_EQ(cli({"identity", "rotate", kName, "--if-older-than", "soon"}).code, 2);
}

TEST_F(Rotate, ACreateOrStoreFailureLeavesTheOldPairWorking) {
  vault_->fail_next("POST", "/client-secrets", 500);
  auto r = cli({"identity", "rotate", kName});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("untouched, still active and stored"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("To finish: vault-proxy identity rotate agent-one"), std::string::npos) << r.err;
  expect_one_stored_active();
  vault_->fail_next("PATCH", "/api/v3/secrets/raw/AGENT_ONE_CLIENT_SECRET", 500);
  auto s = cli({"identity", "rotate", kName});
  EXPECT_EQ(s.code, 1);
  EXPECT_NE(s.err.find("could not be stored and was revoked"), std::string::npos) << s.err;
  expect_one_stored_active();
  EXPECT_EQ(active()[0].id, old_.id);
  ASSERT_EQ(cli({"identity", "rotate", kName}).code, 0);
  expect_one_stored_active();
}

TEST_F(Rotate, AFailedVerifyingLoginKeepsTheOldSecretAndARerunFinishes) {
  vault_->fail_next("POST", "/api/v1/auth/universal-auth/login", 401, 1);  // the admin's login passes
  auto r = cli({"identity", "rotate", kName});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("did not log in"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("NOT revoked"), std::string::npos) << r.err;
  EXPECT_EQ(active().size(), 2u);
  auto again = cli({"identity", "rotate", kName});
  ASSERT_EQ(again.code, 0) << again.out << again.err;
  expect_one_stored_active();
}

TEST_F(Rotate, AFailedRevokeSaysWhichOldSecretIsStillActive) {
  vault_->fail_next("POST", old_.id + "/revoke", 500);
  auto r = cli({"identity", "rotate", kName});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(old_.id + " are still active"), std::string::npos) << r.err;
  ASSERT_EQ(cli({"identity", "rotate", kName}).code, 0);
  expect_one_stored_active();
}

TEST_F(Rotate, RevokeAsksThenRevokesEveryClientSecret) {
  vault_->add_client_secret(vault_->identity(kName)->id);
  auto declined = shell("echo no | \"$VP\" identity revoke agent-one");
  EXPECT_EQ(declined.code, 1);
  EXPECT_NE(declined.err.find("nothing was revoked"), std::string::npos) << declined.err;
  EXPECT_EQ(active().size(), 2u);
  auto r = shell("echo yes | \"$VP\" identity revoke agent-one --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(active().empty());
  EXPECT_EQ(json::parse(r.out)["steps"].size(), 2u);
  auto again = cli({"identity", "revoke", kName, "--yes"});
  EXPECT_EQ(again.code, 0);
  EXPECT_NE(again.out.find("no active client secret"), std::string::npos);
  EXPECT_EQ(cli({"identity", "revoke", "nobody", "--yes"}).code, 1);
}

}  // namespace
