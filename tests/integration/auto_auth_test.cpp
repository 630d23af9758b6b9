// Auto-auth (issue 14, docs/auto-auth.md): the proxy holds the machine identity, logs in, renews
// before expiry and logs in again before the max TTL, while clients hold only a local placeholder.
// The vault is an in-process fake Infisical issuing tokens with TTLs of a few seconds.

#include "support/fake_infisical.hpp"
#include "support/proxy_fixture.hpp"
#include "support/secrets.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class AutoAuth : public ProxyTest {
 protected:
  void start_auto_auth(FakeInfisical::Options o = {}, std::map<std::string, std::string> extra = {}) {
    vault_ = std::make_unique<FakeInfisical>(o);
    std::map<std::string, std::string> env{{"VAULT_PROXY_AUTO_AUTH", "universal-auth"},
                                           {"VAULT_PROXY_LOCAL_TOKEN_FILE", token_file()},
                                           {"INFISICAL_MCP_CLIENT_ID", o.client_id},
                                           {"INFISICAL_MCP_CLIENT_SECRET", identity_secret_.empty() ? o.client_secret
                                                                                                   : identity_secret_}};
    for (auto& [k, v] : extra) env[k] = v;
    start(ProxySetup{}.with_handler(vault_->handler()).with_env(env));
    local_token_ = read_text(token_file());
    ASSERT_FALSE(local_token_.empty());
    ASSERT_EQ(local_token_.back(), '\n');
    local_token_.pop_back();
  }

  std::string token_file() const { return files_.file("local-token"); }

  ClientResponse get_secret(const std::string& name, const std::string& bearer) {
    return http_get(port(), "/api/v3/secrets/raw/" + name + "?workspaceId=p&environment=prod",
                    {{"Authorization", "Bearer " + bearer}});
  }

  json local(const std::string& name) {
    auto r = http_get(port(), "/__vault-proxy/" + name);
    return json::parse(r.body, nullptr, false);
  }

  /// Waits until the keeper has logged in (ready reports a token).
  bool wait_for_token(std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = local("status");
      if (s.is_object() && s["auto_auth"].is_object() && s["auto_auth"]["state"] == "ready") return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  /// Every secret that went through: none may reach the proxy's output.
  void TearDown() override {
    if (proxy_) {
      for (const auto& t : vault_->tokens()) expect_no_secret(proxy().stderr_text() + proxy().stdout_text(), t, "proxy output");
      expect_no_secret(proxy().stderr_text() + proxy().stdout_text(), vault_->options().client_secret, "proxy output");
      if (!local_token_.empty())
        expect_no_secret(proxy().stderr_text() + proxy().stdout_text(), local_token_, "proxy output");
    }
    ProxyTest::TearDown();
  }

  TempDir files_{"vp-auto-auth-"};
  std::unique_ptr<FakeInfisical> vault_;
  std::string local_token_;
  std::string identity_secret_;  ///< non-empty: the proxy gets this secret instead of the vault's
};

TEST_F(AutoAuth, ThePlaceholderFileIsOwnerOnlyAndTheUpstreamGetsTheRealTokenNeverThePlaceholder) {
  start_auto_auth();
  struct stat st {};
  ASSERT_EQ(::lstat(token_file().c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(local_token_.rfind("vpl_", 0), 0u);

  auto r = get_secret("DB_PASSWORD", local_token_);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json::parse(r.body)["secret"]["secretValue"], "value-of-DB_PASSWORD");
  auto reqs = upstream().requests();
  ASSERT_FALSE(reqs.empty());
  const auto& last = reqs.back();
  ASSERT_EQ(vault_->tokens().size(), 1u);
  EXPECT_EQ(last.header("Authorization"), "Bearer " + vault_->tokens().front());
  for (const auto& req : reqs) EXPECT_NO_SECRET(req.raw_header + req.body, local_token_);
  // The keeper's login went through the proxy's own injection.
  EXPECT_EQ(reqs.front().target, "/api/v1/auth/universal-auth/login");
  EXPECT_EQ(reqs.front().header("CF-Access-Client-Id"), client_id);
  EXPECT_EQ(reqs.front().header("User-Agent"), "vp-integration-test/1.0");
}

TEST_F(AutoAuth, AnyOtherAuthorizationPassesUntouched) {
  start_auto_auth();
  ASSERT_TRUE(wait_for_token());  // the keeper's own login is not among the requests looked at below
  auto r = get_secret("X", "someone-elses-token");
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(upstream().requests().back().header("Authorization"), "Bearer someone-elses-token");
  auto basic = http_get(port(), "/api/v1/workspace", {{"Authorization", "Basic dXNlcjpwYXNz"}});
  EXPECT_EQ(upstream().requests().back().header("Authorization"), "Basic dXNlcjpwYXNz");
}

TEST_F(AutoAuth, RequestsKeepSucceedingAcrossSeveralTtlsAndTheMaxTtl) {
  // TTL 3 s, max TTL 7 s: renews at about 2 s and 4 s, a new login at about 6 s, and so on.
  start_auto_auth();
  ASSERT_TRUE(wait_for_token());
  const auto end = std::chrono::steady_clock::now() + 15s;
  std::size_t ok = 0, failed = 0;
  while (std::chrono::steady_clock::now() < end) {
    auto r = get_secret("K", local_token_);
    (r.status == 200 ? ok : failed) += 1;
    if (r.status != 200) ADD_FAILURE() << r.status << " " << r.body;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(failed, 0u);
  EXPECT_GT(ok, 50u);
  // Over 15 s with a 7 s max TTL: the first login and two or three more; renews in between.
  EXPECT_GE(vault_->logins(), 3u);
  EXPECT_LE(vault_->logins(), 4u);
  EXPECT_GE(vault_->renews(), 3u);
  EXPECT_LE(vault_->renew_attempts(), 10u);
  EXPECT_EQ(vault_->token_errors(), 0u);
  auto ready = local("ready");
  EXPECT_EQ(ready["ready"], true) << ready.dump();
  EXPECT_TRUE(ready["token_expires_in_s"].is_number()) << ready.dump();
  EXPECT_LE(ready["token_expires_in_s"].get<int>(), 3);
  EXPECT_TRUE(ready["token_max_ttl_in_s"].is_number()) << ready.dump();
  EXPECT_LE(ready["token_max_ttl_in_s"].get<int>(), 7);
  auto metrics = http_get(port(), "/__vault-proxy/metrics").body;
  EXPECT_NE(metrics.find("\nvault_proxy_token_expires_in_seconds "), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("vault_proxy_token_operations_total{op=\"login\"} " + std::to_string(vault_->logins())),
            std::string::npos)
      << metrics;
}

TEST_F(AutoAuth, FiftyConcurrentRequestsDuringARenewCauseExactlyOneRenew) {
  FakeInfisical::Options o;
  o.ttl = 3000ms;
  o.max_ttl = 0ms;  // no max TTL: only renews
  start_auto_auth(o);
  ASSERT_TRUE(wait_for_token());
  // The renew falls due about 2 s after the login; 50 clients hammer the proxy around it.
  std::atomic<std::size_t> failures{0};
  std::vector<std::thread> clients;
  const auto end = std::chrono::steady_clock::now() + 2600ms;
  for (int i = 0; i < 50; ++i)
    clients.emplace_back([&] {
      while (std::chrono::steady_clock::now() < end)
        if (get_secret("C", local_token_).status != 200) ++failures;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0u);
  EXPECT_EQ(vault_->renew_attempts(), 1u);
  EXPECT_EQ(vault_->login_attempts(), 1u);
}

TEST_F(AutoAuth, AWrongSecretGivesExactlyOneLoginThenAClearNotReadyReason) {
  identity_secret_ = "not-the-identity-secret-" + random_token(8);
  start_auto_auth();
  std::this_thread::sleep_for(1500ms);
  auto r = get_secret("K", local_token_);
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.header("X-Vault-Proxy-Error"), "token_unavailable");
  EXPECT_NE(r.body.find("login refused"), std::string::npos) << r.body;
  auto ready = http_get(port(), "/__vault-proxy/ready");
  EXPECT_EQ(ready.status, 503u);
  EXPECT_NE(ready.body.find("no further attempt"), std::string::npos) << ready.body;
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(vault_->login_attempts(), 1u);
  EXPECT_TRUE(proxy().wait_for_stderr("the vault refused the identity's login", 1s));
  expect_no_secret(proxy().stderr_text(), identity_secret_, "proxy stderr");
}

TEST_F(AutoAuth, ANewSecretInTheIdentityFileEndsTheWaitWithExactlyOneMoreLogin) {
  const std::string id_file = files_.file("infisical-mcp-client-id");
  const std::string secret_file = files_.file("infisical-mcp-client-secret");
  FakeInfisical::Options o;
  write_file(id_file, o.client_id + "\n", 0600);
  identity_secret_ = "stale-secret-" + random_token(8);
  write_file(secret_file, identity_secret_ + "\n", 0600);
  vault_ = std::make_unique<FakeInfisical>(o);
  start(ProxySetup{}.with_handler(vault_->handler()).with_env({{"VAULT_PROXY_AUTO_AUTH", "universal-auth"},
                                                              {"VAULT_PROXY_LOCAL_TOKEN_FILE", token_file()},
                                                              {"INFISICAL_MCP_CLIENT_ID_FILE", id_file},
                                                              {"INFISICAL_MCP_CLIENT_SECRET_FILE", secret_file}}));
  local_token_ = read_text(token_file());
  local_token_.pop_back();
  ASSERT_TRUE(proxy().wait_for_stderr("the vault refused the identity's login", 5s));
  EXPECT_EQ(vault_->login_attempts(), 1u);
  // The rotation: a new file renamed over the old one (the folder is watched).
  write_file(secret_file + ".new", o.client_secret + "\n", 0600);
  std::filesystem::rename(secret_file + ".new", secret_file);
  ASSERT_TRUE(wait_for_token()) << redacted_stderr();
  EXPECT_EQ(get_secret("K", local_token_).status, 200u);
  EXPECT_EQ(vault_->login_attempts(), 2u);
  EXPECT_EQ(vault_->logins(), 1u);
  expect_no_secret(proxy().stderr_text(), identity_secret_, "proxy stderr");
}

TEST_F(AutoAuth, ALoginWithTheIdentitysCredentialsIsAnsweredLocallyWithThePlaceholder) {
  start_auto_auth();
  ASSERT_TRUE(wait_for_token());
  const auto before = upstream().request_count();
  const auto& o = vault_->options();
  ClientRequest login{.method = "POST", .target = "/api/v1/auth/universal-auth/login",
                      .headers = {{"Content-Type", "application/json"}},
                      .body = json{{"clientId", o.client_id}, {"clientSecret", o.client_secret}}.dump()};
  auto r = http_request(port(), login);
  ASSERT_EQ(r.status, 200u) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["accessToken"], local_token_);
  EXPECT_EQ(j["tokenType"], "Bearer");
  // Another secret: Infisical's 401 shape, and nothing upstream (it would count towards the lockout).
  login.body = json{{"clientId", o.client_id}, {"clientSecret", "guess"}}.dump();
  auto refused = http_request(port(), login);
  EXPECT_EQ(refused.status, 401u);
  EXPECT_EQ(json::parse(refused.body)["error"], "UnauthorizedError");
  EXPECT_EQ(upstream().request_count(), before);
  EXPECT_EQ(vault_->login_attempts(), 1u);
  // A revoke of the placeholder is acknowledged locally; the real token keeps working.
  ClientRequest revoke{.method = "POST", .target = "/api/v1/auth/token/revoke",
                       .headers = {{"Content-Type", "application/json"}},
                       .body = json{{"accessToken", local_token_}}.dump()};
  EXPECT_EQ(http_request(port(), revoke).status, 200u);
  EXPECT_EQ(get_secret("K", local_token_).status, 200u);
  EXPECT_EQ(local("status")["headers"]["local_logins_refused"], 1);
}

TEST_F(AutoAuth, ATokenTheVaultRefusesIsReplacedByANewLogin) {
  FakeInfisical::Options o;
  o.ttl = 60'000ms;
  o.max_ttl = 0ms;
  start_auto_auth(o);
  ASSERT_TRUE(wait_for_token());
  ASSERT_EQ(get_secret("K", local_token_).status, 200u);
  vault_->revoke_all();
  // The first request after the revoke sees the vault's 403 TokenError; the keeper logs in again.
  EXPECT_EQ(get_secret("K", local_token_).status, 403u);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (vault_->logins() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(vault_->logins(), 2u);
  EXPECT_EQ(get_secret("K", local_token_).status, 200u);
}

TEST_F(AutoAuth, RunGivesTheCommandOnlyThePlaceholderAndItReadsThroughTheProxy) {
  // The vault only; `run` starts its own proxy with --auto-auth.
  vault_ = std::make_unique<FakeInfisical>();
  FakeUpstream vault({shared_pki().valid}, vault_->handler());
  TempDir state("vp-run-state-");
  const std::string seen = files_.file("seen");
  const auto& o = vault_->options();
  ProxyProcess::Options po;
  po.env = {{"VAULT_PROXY_UPSTREAM", std::string("https://") + upstream_name},
            {"VAULT_PROXY_CONNECT_TO", vault.address()},
            {"VAULT_PROXY_CA_FILE", shared_pki().ca_pem},
            {"VAULT_PROXY_STATE_DIR", state.path()},
            {"CF_ACCESS_CLIENT_ID", "run-test-id.access"},
            {"CF_ACCESS_CLIENT_SECRET", "run-test-cf-secret-" + random_token(8)},
            {"INFISICAL_MCP_CLIENT_ID", o.client_id},
            {"INFISICAL_MCP_CLIENT_SECRET", o.client_secret}};
  po.args = {"run", "--auto-auth", "--port", "0", "--", "sh", "-c",
             "printf '%s|%s|%s\\n' \"$VAULT_PROXY_LOCAL_TOKEN\" \"${INFISICAL_MCP_CLIENT_SECRET:-unset}\" "
             "\"${INFISICAL_MCP_CLIENT_ID:-unset}\" > \"$0\"; curl -sS -H \"Authorization: Bearer "
             "$VAULT_PROXY_LOCAL_TOKEN\" \"$VAULT_PROXY_URL/api/v3/secrets/raw/RUN_KEY?environment=prod\"",
             seen};
  po.wait_ready = false;
  ProxyProcess run(po);
  auto code = run.wait_exit(60s);
  ASSERT_EQ(code, 0) << run.stderr_text();
  const std::string text = read_text(seen);
  ASSERT_EQ(text.rfind("vpl_", 0), 0u) << "the command got no placeholder";
  const std::string token = text.substr(0, text.find('|'));
  EXPECT_EQ(text.substr(token.size()), "|unset|unset\n") << "the identity stays with the proxy";
  EXPECT_NE(run.stdout_text().find("value-of-RUN_KEY"), std::string::npos) << run.stdout_text();
  EXPECT_EQ(vault_->logins(), 1u);
  for (const auto& t : vault_->tokens()) EXPECT_NO_SECRET(run.stdout_text() + run.stderr_text() + text, t);
  EXPECT_NO_SECRET(run.stdout_text() + run.stderr_text(), token);
  EXPECT_NO_SECRET(run.stdout_text() + run.stderr_text() + text, o.client_secret);
  // The proxy removed its token file when `run` stopped it.
  for (auto& e : std::filesystem::directory_iterator(state.path()))
    EXPECT_FALSE(e.path().filename().string().ends_with("local-token")) << e.path();
}

TEST_F(AutoAuth, WithoutAnIdentityServeRefusesToStart) {
  vault_ = std::make_unique<FakeInfisical>();
  ProxyProcess::Options po;
  po.env = {{"VAULT_PROXY_UPSTREAM", "https://vault.test"}, {"VAULT_PROXY_PORT", "0"},
            {"VAULT_PROXY_AUTO_AUTH", "universal-auth"}, {"CF_ACCESS_CLIENT_ID", "a"},
            {"CF_ACCESS_CLIENT_SECRET", "b"}};
  po.wait_ready = false;
  ProxyProcess p(po);
  EXPECT_EQ(p.wait_exit(10s), 2);
  EXPECT_NE(p.stderr_text().find("INFISICAL_MCP_CLIENT_ID"), std::string::npos) << p.stderr_text();
  stopped_by_test_ = true;
}

}  // namespace
