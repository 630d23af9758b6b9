// `vault-proxy run` keeps the service token away from the command it launches (issue 11, defect 2):
// the command is run's child and the proxy's sibling, so it can look at both through /proc. Neither
// /proc/$PPID/environ nor the proxy's environ may hold a credential byte, as root (who reads any
// process's environ: only the scrub protects) and as an ordinary user (where dumpability also does).

#include "support/other_user.hpp"
#include "support/proxy_fixture.hpp"
#include "support/secrets.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;

// The command: copies what it can read of its parent's (run's) environ and of every sibling's (the
// proxy's), with the errors, into files under $0.
constexpr const char* snoop =
    "cat /proc/$PPID/environ > \"$0/parent\" 2> \"$0/parent.err\"; "
    "for c in $(cat /proc/$PPID/task/*/children); do "
    "  [ \"$c\" = \"$$\" ] || cat /proc/$c/environ; "
    "done > \"$0/siblings\" 2> \"$0/siblings.err\"; "
    "echo done > \"$0/finished\"";

class RunEnviron : public ::testing::Test {
 protected:
  TempDir state_{"vp-run-env-state-"};
  TempDir out_{"vp-run-env-out-"};
  const std::string id_ = random_token(8) + ".access";
  const std::string secret_ = random_token(24);

  ProxyProcess::Options run_options() {
    ProxyProcess::Options o;
    o.env = {{"VAULT_PROXY_STATE_DIR", state_.path()},
             {"VAULT_PROXY_UPSTREAM", "https://vault.test"},
             {"VAULT_PROXY_CONNECT_TO", "127.0.0.1:" + std::to_string(unused_port())},
             {"CF_ACCESS_CLIENT_ID", id_},
             {"CF_ACCESS_CLIENT_SECRET", secret_}};
    o.args = {"run", "--port", "0", "--log-file", "-", "--", "sh", "-c", snoop, out_.path()};
    o.wait_ready = false;
    return o;
  }

  /// Runs to completion; fails the test unless the command ran.
  void run(ProxyProcess::Options o) {
    ProxyProcess p(std::move(o));
    auto code = p.wait_exit(60s);
    ASSERT_TRUE(code.has_value()) << "run did not exit\n" << p.stderr_text();
    EXPECT_EQ(*code, 0) << p.stderr_text();
    ASSERT_EQ(read_file(out_.file("finished")), "done\n") << "the command did not run\n" << p.stderr_text();
    EXPECT_TRUE(no_secret_in(p.stdout_text() + p.stderr_text(), secret_, "run's output"));
  }

  void expect_no_credential_in(const std::string& file) {
    const std::string text = read_file(out_.file(file));
    EXPECT_TRUE(no_secret_in(text, secret_, file)) << "the command read the client secret from " << file;
    EXPECT_TRUE(no_secret_in(text, id_, file)) << "the command read the client id from " << file;
  }
};

TEST_F(RunEnviron, TheCommandFindsNoCredentialInItsParentsOrTheProxysEnviron) {
  run(run_options());
  expect_no_credential_in("parent");
  expect_no_credential_in("siblings");
  if (::geteuid() == 0) {
    // Root reads a non-dumpable process's environ: the scrub, not the dumpable flag, kept it clean.
    EXPECT_NE(read_file(out_.file("parent")).find("VAULT_PROXY_STATE_DIR="), std::string::npos)
        << "as root the command should see run's environment, less the credentials";
  }
}

TEST_F(RunEnviron, AsAnotherUserTheCommandCannotReadRunsEnvironAtAll) {
  if (auto why = other_uids_unavailable(); !why.empty()) GTEST_SKIP() << "no second uid: " << why;
  constexpr uid_t uid = 42171;  // tests/integration/other_user_test.cpp uses 42110-42161
  for (const auto& dir : {state_.path(), out_.path()}) ASSERT_EQ(::chown(dir.c_str(), uid, uid), 0) << dir;
  auto o = run_options();
  auto as_user = vault_proxy_as(uid, o.args, o.env);
  run(std::move(as_user));
  expect_no_credential_in("parent");
  expect_no_credential_in("siblings");
  // Non-dumpable: /proc/$PPID/environ is closed to a process of the same (non-root) uid.
  EXPECT_TRUE(read_file(out_.file("parent")).empty());
  EXPECT_NE(read_file(out_.file("parent.err")).find("Permission denied"), std::string::npos)
      << read_file(out_.file("parent.err"));
}

}  // namespace
