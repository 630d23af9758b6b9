// Process-level behaviour of `vault-proxy serve`: readiness and health, port in use, graceful
// shutdown with a request in flight, credentials from files, logging without secrets.

#include "support/proxy_fixture.hpp"
#include "support/secrets.hpp"

#include <boost/asio.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <iterator>
#include <optional>
#include <future>
#include <sstream>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;

class Lifecycle : public ProxyTest {};

TEST_F(Lifecycle, HealthAnswersAndStartupLineNamesListenAndUpstream) {
  start();
  auto res = http_get(port(), "/__vault-proxy/health");
  EXPECT_EQ(res.status, 200u);
  auto j = nlohmann::json::parse(res.body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << res.body;
  EXPECT_EQ(j.value("status", ""), "ok");
  EXPECT_EQ(upstream().request_count(), 0u) << "local endpoints are never forwarded";
  EXPECT_EQ(proxy().listen_address(), "127.0.0.1");
  EXPECT_NE(proxy().stderr_text().find("https://vault.test"), std::string::npos)
      << "one startup line should say where the proxy forwards\n" << redacted_stderr();
}

TEST_F(Lifecycle, ApiStatusIsForwardedLikeAnyOtherPath) {
  start();
  auto res = http_get(port(), "/api/status");
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(upstream().request_count(), 1u);
}

TEST_F(Lifecycle, PortInUseExitsWith3AndNamesThePortAndVariable) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor holder(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto taken = holder.local_endpoint().port();
  start(ProxySetup{}.with_env({{"VAULT_PROXY_PORT", std::to_string(taken)}})
            .without_waiting_for_ready());
  auto code = proxy().wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << "the proxy kept running although its port is taken";
  stopped_by_test_ = true;
  EXPECT_EQ(*code, 3);
  const std::string err = proxy().stderr_text();
  EXPECT_NE(err.find(std::to_string(taken)), std::string::npos) << err;
  EXPECT_NE(err.find("VAULT_PROXY_PORT"), std::string::npos) << err;
  EXPECT_EQ(err.find("listening on"), std::string::npos) << "must never fall back to another port\n" << err;
}

TEST_F(Lifecycle, SigtermLetsAnInFlightRequestFinishThenExits0) {
  start(ProxySetup{}.with_handler([](const RecordedRequest&) {
    Response r = Response::text(200, "slow but complete");
    r.stall_before_header = 1500ms;
    return r;
  }));
  auto in_flight = std::async(std::launch::async, [p = port()] { return http_get(p, "/slow"); });
  ASSERT_TRUE(upstream().wait_for_requests(1, 5s));
  proxy().send_signal(SIGTERM);
  auto res = in_flight.get();
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.body, "slow but complete");
  auto code = proxy().wait_exit(10s);
  stopped_by_test_ = true;
  ASSERT_TRUE(code.has_value()) << "no exit after the in-flight request finished";
  EXPECT_EQ(*code, 0);
  // Stopped accepting: nothing listens on the port any more.
  EXPECT_ANY_THROW(HttpClient(port(), 2s));
  expect_no_secrets_in_output();
}

TEST_F(Lifecycle, SigintExits0) {
  start();
  EXPECT_EQ(http_get(port(), "/__vault-proxy/health").status, 200u);
  proxy().send_signal(SIGINT);
  auto code = proxy().wait_exit(10s);
  stopped_by_test_ = true;
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

TEST_F(Lifecycle, IdleKeepAliveClientDoesNotHoldUpShutdown) {
  start();
  HttpClient idle(port());
  ClientRequest req;
  req.target = "/keepalive";
  ASSERT_EQ(idle.request(req).status, 200u);
  auto t0 = std::chrono::steady_clock::now();
  proxy().send_signal(SIGTERM);
  auto code = proxy().wait_exit(15s);
  stopped_by_test_ = true;
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  // The grace period is 10 s; 5 s leaves room for a loaded machine and the sanitizer's exit checks.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s)
      << "an idle keep-alive connection has no request in flight and should not delay exit";
}

TEST_F(Lifecycle, CredentialsFromFilesHaveTheirTrailingNewlineStripped) {
  TempDir creds("vp-creds-");
  const std::string id = random_token(8) + ".access";
  const std::string secret = random_token(24);
  write_file(creds.file("id"), id + "\n");
  write_file(creds.file("secret"), secret + "\n");
  start(ProxySetup{}.without_credentials().with_env(
      {{"CF_ACCESS_CLIENT_ID_FILE", creds.file("id")}, {"CF_ACCESS_CLIENT_SECRET_FILE", creds.file("secret")}}));
  client_id = id;  // so TearDown checks these for leaks
  client_secret = secret;
  EXPECT_EQ(http_get(port(), "/api/status").status, 200u);
  auto reqs = upstream().requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].values("CF-Access-Client-Id"), std::vector<std::string>{id});
  EXPECT_EQ(reqs[0].count("CF-Access-Client-Secret"), 1u);
  EXPECT_TRUE(reqs[0].header("CF-Access-Client-Secret") == secret) << "secret differs (value not shown)";
}

TEST_F(Lifecycle, CredentialsFromSystemdCredentialsDirectory) {
  TempDir creds("vp-creds-");
  const std::string id = random_token(8) + ".access";
  const std::string secret = random_token(24);
  write_file(creds.file("cf-access-client-id"), id);
  write_file(creds.file("cf-access-client-secret"), secret + "\n");
  start(ProxySetup{}.without_credentials().with_env({{"CREDENTIALS_DIRECTORY", creds.path()}}));
  client_id = id;
  client_secret = secret;
  EXPECT_EQ(http_get(port(), "/api/status").status, 200u);
  auto reqs = upstream().requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].values("CF-Access-Client-Id"), std::vector<std::string>{id});
  EXPECT_EQ(reqs[0].count("CF-Access-Client-Secret"), 1u);
  EXPECT_TRUE(reqs[0].header("CF-Access-Client-Secret") == secret) << "secret differs (value not shown)";
}

TEST_F(Lifecycle, SecretWithLineBreakIsRefusedWithoutEchoingIt) {
  const std::string bad = random_token(10) + "\r\n" + random_token(10);
  start(ProxySetup{}
            .without_credentials()
            .with_env({{"CF_ACCESS_CLIENT_ID", random_token(8)}, {"CF_ACCESS_CLIENT_SECRET", bad}})
            .without_waiting_for_ready());
  auto code = proxy().wait_exit(10s);
  stopped_by_test_ = true;
  ASSERT_TRUE(code.has_value()) << "a secret containing CR/LF must be refused at start";
  EXPECT_EQ(*code, 2);
  const std::string err = proxy().stderr_text();
  EXPECT_NE(err.find("CF_ACCESS_CLIENT_SECRET"), std::string::npos) << err;
  EXPECT_TRUE(no_secret_in(err, bad.substr(0, 20), "stderr"));
  EXPECT_TRUE(no_secret_in(err, bad.substr(22), "stderr"));
}

TEST_F(Lifecycle, AccessLogHasOneLinePerRequestAndNoCredentialsCookiesOrQuery) {
  start(ProxySetup{}.with_handler([](const RecordedRequest&) {
    Response r = Response::text(200, "body-must-not-be-logged-7f3a");
    r.headers.push_back({"Set-Cookie", "session=setcookie-must-not-be-logged-91c2"});
    return r;
  }));
  const std::string auth = "Bearer " + random_token(20);
  const std::string cookie = "session=" + random_token(20);
  const std::string query_secret = random_token(20);
  HttpClient c(port());
  for (int i = 0; i < 3; ++i) {
    ClientRequest req;
    req.method = "POST";
    req.target = "/logged/path-" + std::to_string(i) + "?token=" + query_secret;
    req.headers = {{"Authorization", auth}, {"Cookie", cookie}};
    req.body = "request-body-must-not-be-logged-0b5e";
    ASSERT_EQ(c.request(req).status, 200u);
  }
  c.close();
  // The access-log line is written once the exchange is over, which can be just after the client
  // has its response.
  EXPECT_TRUE(proxy().wait_for_stderr("/logged/path-2", 5s));
  const std::string err = proxy().stderr_text();
  for (int i = 0; i < 3; ++i) {
    std::string path = "/logged/path-" + std::to_string(i);
    std::size_t lines = 0;
    std::istringstream in(err);
    for (std::string line; std::getline(in, line);)
      if (line.find(path) != std::string::npos) ++lines;
    EXPECT_EQ(lines, 1u) << "expected exactly one access-log line for " << path << "\n" << redacted_stderr();
  }
  EXPECT_TRUE(no_secret_in(err, auth.substr(7), "stderr")) << "(Authorization)";
  EXPECT_TRUE(no_secret_in(err, cookie.substr(8), "stderr")) << "(Cookie)";
  EXPECT_TRUE(no_secret_in(err, query_secret, "stderr")) << "(query string)";
  EXPECT_EQ(err.find("must-not-be-logged"), std::string::npos) << "bodies or Set-Cookie were logged";
}

TEST_F(Lifecycle, JsonLogFormatWritesOneJsonObjectPerLine) {
  start(ProxySetup{}.with_env({{"VAULT_PROXY_LOG_FORMAT", "json"}}));
  EXPECT_EQ(http_get(port(), "/json-log").status, 200u);
  proxy().send_signal(SIGTERM);
  auto code = proxy().wait_exit(10s);
  stopped_by_test_ = true;
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  std::istringstream in(proxy().stderr_text());
  std::size_t lines = 0;
  bool saw_request = false;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    ++lines;
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
    if (line.find("/json-log") != std::string::npos) {
      saw_request = true;
      // One object, built once: the sink's time and level beside the record's own fields.
      EXPECT_EQ(j.value("type", ""), "access") << line;
      EXPECT_EQ(j.value("level", ""), "info") << line;
      EXPECT_TRUE(j.contains("ts") && j["msg"] == "access" && j.contains("status") && j.contains("duration_ms")) << line;
      EXPECT_EQ(j.value("path", ""), "/json-log") << line;
    } else {
      EXPECT_TRUE(j.contains("msg")) << line;
    }
  }
  EXPECT_GE(lines, 2u);
  EXPECT_TRUE(saw_request) << "no access-log line for /json-log";
  expect_no_secrets_in_output();
}

}  // namespace

namespace {

/// /proc/<pid>/environ of a child, or nullopt when it cannot be read (a non-root user cannot read
/// it once the proxy has set PR_SET_DUMPABLE to 0).
std::optional<std::string> proc_environ(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string env((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (!f && env.empty()) return std::nullopt;
  return env;
}

}  // namespace

TEST(ScrubEnv, CredentialBytesLeaveProcEnvironWithTheFlagAndOnlyThen) {
  const std::string id = random_token(8) + ".access";
  const std::string secret = random_token(24);
  for (bool scrub : {false, true}) {
    SCOPED_TRACE(scrub ? "with --scrub-env" : "without --scrub-env");
    ProxyProcess::Options o;
    o.env = {{"VAULT_PROXY_PORT", "0"},
             {"VAULT_PROXY_UPSTREAM", "https://vault.test"},
             {"CF_ACCESS_CLIENT_ID", id},
             {"CF_ACCESS_CLIENT_SECRET", secret}};
    if (scrub) o.args.push_back("--scrub-env");
    ProxyProcess p(o);
    auto env = proc_environ(p.pid());
    if (!env) GTEST_SKIP() << "/proc/<pid>/environ of a non-dumpable process is readable by root only";
    // Compared as bools: a failure must not print the environment.
    EXPECT_EQ(env->find(secret) != std::string::npos, !scrub) << "the secret in /proc/<pid>/environ";
    EXPECT_EQ(env->find(id) != std::string::npos, !scrub) << "the client id in /proc/<pid>/environ";
    EXPECT_NE(env->find("VAULT_PROXY_PORT=0"), std::string::npos) << "other variables must stay";
    // The proxy still has the token it read: health answers and the token is reported loaded.
    EXPECT_EQ(http_get(p.port(), "/__vault-proxy/health").status, 200u);
    EXPECT_NE(p.stderr_text().find("service token loaded from env"), std::string::npos);
    p.send_signal(SIGTERM);
    EXPECT_EQ(p.wait_exit(15s), std::optional<int>(0));
    EXPECT_EQ(p.stderr_text().find(secret), std::string::npos) << "the secret is in the log";
  }
}
