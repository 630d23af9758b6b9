#include "support/admin_cli.hpp"

#include "support/proxy_fixture.hpp"
#include "support/secrets.hpp"

#include <csignal>
#include <filesystem>
#include <thread>

namespace vp::test {

using namespace std::chrono_literals;

void AdminCliTest::SetUp() {
  vault_ = std::make_unique<FakeInfisicalAdmin>();
  upstream_ = std::make_unique<FakeUpstream>(FakeUpstream::Options{shared_pki().valid}, vault_->handler());
  cf_id = random_token(16) + ".access";
  cf_secret = random_token(32);
}

void AdminCliTest::TearDown() {
  auto secrets = vault_->all_secrets();
  secrets.push_back(cf_secret);
  for (auto& s : extra_secrets_) secrets.push_back(s);
  for (std::size_t i = 0; i < runs_.size(); ++i)
    for (auto& s : secrets) {
      EXPECT_TRUE(no_secret_in(runs_[i].out, s, "stdout of run " + std::to_string(i)));
      EXPECT_TRUE(no_secret_in(runs_[i].err, s, "stderr of run " + std::to_string(i)));
    }
  if (proxy_) {
    for (auto& s : secrets) EXPECT_TRUE(no_secret_in(proxy_->stderr_text() + proxy_->stdout_text(), s, "proxy output"));
    proxy_->send_signal(SIGTERM);
    proxy_->wait_exit(15s);
  }
}

std::map<std::string, std::string> AdminCliTest::cli_env() const {
  return {{"VAULT_PROXY_UPSTREAM", std::string("https://") + upstream_name},
          {"VAULT_PROXY_CONNECT_TO", upstream_->address()},
          {"VAULT_PROXY_CA_FILE", shared_pki().ca_pem},
          {"VAULT_PROXY_USER_AGENT", "vp-integration-test/1.0"},
          {"VAULT_PROXY_STATE_DIR", state_.path()},
          {"CF_ACCESS_CLIENT_ID", cf_id},
          {"CF_ACCESS_CLIENT_SECRET", cf_secret},
          {"INFISICAL_CLIENT_ID", vault_->options().admin_client_id},
          {"INFISICAL_CLIENT_SECRET", vault_->options().admin_client_secret},
          {"INFISICAL_PROJECT_ID", vault_->options().project_id}};
}

CliRun AdminCliTest::cli(std::vector<std::string> args, const std::map<std::string, std::string>& extra) {
  ProxyProcess::Options o;
  o.env = cli_env();
  for (auto& [k, v] : extra) o.env[k] = v;
  o.args = std::move(args);
  o.wait_ready = false;
  ProxyProcess p(o);
  auto code = p.wait_exit(60s);
  CliRun r{code.value_or(-1), p.stdout_text(), p.stderr_text()};
  EXPECT_TRUE(code.has_value()) << "vault-proxy did not exit in time";
  runs_.push_back(r);
  return r;
}

CliRun AdminCliTest::shell(const std::string& script, const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env = extra;
  env["VP"] = std::getenv("VP_TEST_BINARY") ? std::getenv("VP_TEST_BINARY") : VP_BINARY;
  ProxyProcess::Options o;
  o.env = cli_env();
  for (auto& [k, v] : env) o.env[k] = v;
  o.binary = "/bin/sh";
  o.args = {"-c", script};
  o.wait_ready = false;
  ProxyProcess p(o);
  auto code = p.wait_exit(60s);
  CliRun r{code.value_or(-1), p.stdout_text(), p.stderr_text()};
  runs_.push_back(r);
  return r;
}

std::uint16_t AdminCliTest::start_proxy(const std::map<std::string, std::string>& extra) {
  ProxyProcess::Options o;
  o.env = cli_env();
  o.env.erase("INFISICAL_CLIENT_ID");
  o.env.erase("INFISICAL_CLIENT_SECRET");
  o.env["VAULT_PROXY_PORT"] = "0";
  o.env["VAULT_PROXY_LISTEN"] = "127.0.0.1";
  for (auto& [k, v] : extra) o.env[k] = v;
  proxy_ = std::make_unique<ProxyProcess>(o);
  const auto file = state_.file("serve-" + std::to_string(proxy_->port()) + ".json");
  for (int i = 0; i < 500 && !std::filesystem::exists(file); ++i) std::this_thread::sleep_for(10ms);
  return proxy_->port();
}

}  // namespace vp::test
