#pragma once
// A fixture for the `secret` and `identity` commands: a FakeInfisicalAdmin behind a FakeUpstream
// (TLS, the shared test PKI), the real binary run to completion with the admin credentials in its
// environment, and, at TearDown, every captured output grepped for every secret that went through
// the fake (admin secret, tokens, client secrets, stored values) and for the service token.

#include "support/fake_infisical_admin.hpp"
#include "support/fake_upstream.hpp"
#include "support/proxy_process.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vp::test {

/// One CLI run.
struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

class AdminCliTest : public ::testing::Test {
 protected:
  void SetUp() override;
  /// Greps every run's output for every secret (non-fatal), then tears down.
  void TearDown() override;

  /// The environment of a CLI run: upstream, CA, service token, admin credentials, project, and
  /// an empty state directory (no proxy running) unless a test starts one.
  std::map<std::string, std::string> cli_env() const;
  /// Runs `vault-proxy <args>` with cli_env() plus `extra`.
  CliRun cli(std::vector<std::string> args, const std::map<std::string, std::string>& extra = {});
  /// Runs `/bin/sh -c script` with cli_env() plus `extra` and $VP set to the binary.
  CliRun shell(const std::string& script, const std::map<std::string, std::string>& extra = {});
  /// Starts `vault-proxy serve` on port 0 recording itself in the state directory; returns its port.
  std::uint16_t start_proxy(const std::map<std::string, std::string>& extra = {});

  std::unique_ptr<FakeInfisicalAdmin> vault_;
  std::unique_ptr<FakeUpstream> upstream_;
  std::unique_ptr<ProxyProcess> proxy_;
  TempDir state_{"vp-admin-state-"};
  TempDir files_{"vp-admin-files-"};
  std::string cf_id, cf_secret;
  std::vector<std::string> extra_secrets_;  ///< more values the test put through (checked too)
  std::vector<CliRun> runs_;
};

}  // namespace vp::test
