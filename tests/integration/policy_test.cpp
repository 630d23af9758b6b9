// The local policy (issue 18, docs/guardrails.md) on the real binary: the read-only preset, a
// policy file that turns on a write's body, a policy per listener, SIGHUP, and errors at start.
// What the upstream received is the proof: a refused request never reaches it.

#include "support/proxy_fixture.hpp"
#include "support/proxy_process.hpp"
#include "support/secrets.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <gtest/gtest.h>

#include <csignal>
#include <sys/stat.h>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;

constexpr const char* secret_value = "pol1cy-secret-VALUE-7f3a";

ClientRequest write_request(const std::string& method, const std::string& name, const std::string& env,
                            const std::string& path) {
  ClientRequest r;
  r.method = method;
  r.target = "/api/v3/secrets/raw/" + name;
  r.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer t"}};
  r.body = R"({"workspaceId":"p1","environment":")" + env + R"(","secretPath":")" + path +
           R"(","secretValue":")" + secret_value + R"("})";
  return r;
}

class Policy : public ProxyTest {
 protected:
  void TearDown() override {
    if (proxy_) expect_no_secret(proxy().stderr_text() + proxy().stdout_text(), secret_value, "proxy output");
    ProxyTest::TearDown();
  }

  std::string policy_file(const std::string& text) {
    auto path = files_.file("policy.toml");
    write_file(path, text);
    ::chmod(path.c_str(), 0644);
    return path;
  }

  TempDir files_;
};

TEST_F(Policy, ReadOnlyPresetLetsReadsThroughAndRefusesWritesBeforeTheUpstream) {
  start(ProxySetup{}.with_env({{"VAULT_PROXY_POLICY", "read-only"}}));
  HttpClient c(port());
  auto read = c.request({.target = "/api/v3/secrets/raw/DB?workspaceId=p1&environment=dev&secretPath=%2F"});
  EXPECT_EQ(read.status, 200u);
  auto list = c.request({.target = "/api/v3/secrets/raw?workspaceId=p1&environment=dev"});
  EXPECT_EQ(list.status, 200u);
  ASSERT_EQ(upstream().request_count(), 2u);

  for (const char* method : {"POST", "PATCH", "DELETE"}) {
    SCOPED_TRACE(method);
    HttpClient w(port());
    auto r = w.request(write_request(method, "NEW", "dev", "/app"));
    EXPECT_EQ(r.status, 403u);
    EXPECT_EQ(r.header("X-Vault-Proxy-Error"), "local_policy");
    auto body = parse_error_body(r.body);
    EXPECT_EQ(body.error, "local_policy");
    EXPECT_NE(body.message.find("vault-proxy's local policy \"read-only\" refused"), std::string::npos) << body.message;
    EXPECT_NE(body.message.find("no rule allows it. This proxy is read-only"), std::string::npos) << body.message;
    EXPECT_EQ(r.body.find(secret_value), std::string::npos);
  }
  auto admin = http_request(port(), {.method = "POST", .target = "/api/v1/identities", .body = "{}"});
  EXPECT_EQ(admin.status, 403u);
  EXPECT_EQ(upstream().request_count(), 2u) << "a refused request reached the upstream";

  // The refusals are counted.
  auto status = nlohmann::json::parse(http_get(port(), "/__vault-proxy/status").body);
  EXPECT_EQ(status["policy"]["tcp"], "read-only");
  EXPECT_EQ(status["policy"]["refused"], 4);
  EXPECT_EQ(status["policy"]["allowed"], 2);
}

TEST_F(Policy, ARuleOnTheBodysEnvironmentForwardsTheSameBytes) {
  auto path = policy_file(R"(
name = "app-tmp"
extends = "read-only"
[[allow]]
name = "write dev:/app/tmp"
methods = ["POST", "PATCH"]
operations = ["create-secret", "update-secret"]
environment = "dev"
secret_path = "/app/tmp/**"
)");
  start(ProxySetup{}.with_env({{"VAULT_PROXY_POLICY", path}}));
  HttpClient c(port());
  auto ok = write_request("POST", "A", "dev", "/app/tmp");
  EXPECT_EQ(c.request(ok).status, 200u);
  auto chunked = write_request("PATCH", "A", "dev", "/app/tmp/x");
  chunked.chunked = true;
  EXPECT_EQ(c.request(chunked).status, 200u);
  ASSERT_EQ(upstream().request_count(), 2u);
  auto seen = upstream().requests();
  EXPECT_EQ(seen[0].body, ok.body);
  EXPECT_EQ(seen[0].header("Content-Length"), std::to_string(ok.body.size()));
  EXPECT_EQ(seen[1].body, chunked.body);
  EXPECT_TRUE(seen[1].chunked);

  // Expect: 100-continue: the proxy sends the 100 itself, reads the body, decides, forwards.
  auto cont = write_request("POST", "B", "dev", "/app/tmp");
  cont.headers.push_back({"Expect", "100-continue"});
  c.send_header(cont, cont.body.size());
  auto interim = c.read_response();
  EXPECT_EQ(interim.status, 100u);
  c.send_raw(cont.body);
  EXPECT_EQ(c.read_response().status, 200u);
  ASSERT_EQ(upstream().request_count(), 3u);
  EXPECT_EQ(upstream().requests()[2].body, cont.body);

  auto wrong_env = c.request(write_request("POST", "C", "prod", "/app/tmp"));
  EXPECT_EQ(wrong_env.status, 403u);
  EXPECT_NE(parse_error_body(wrong_env.body).message.find("rule \"write dev:/app/tmp\" allows environment \"dev\" only"),
            std::string::npos)
      << wrong_env.body;
  // The body was read whole to decide: the connection stays usable.
  EXPECT_TRUE(wrong_env.keep_alive);
  EXPECT_EQ(c.request({.target = "/api/status"}).status, 200u);
  EXPECT_EQ(upstream().request_count(), 4u);
}

TEST_F(Policy, EachListenerHasItsOwnPolicy) {
  auto sock = files_.file("vp.sock");
  start(ProxySetup{}.with_env(
      {{"VAULT_PROXY_POLICY", "read-only"}, {"VAULT_PROXY_UNIX_SOCKET", sock}, {"VAULT_PROXY_UNIX_SOCKET_POLICY", "off"}}));
  ASSERT_TRUE(proxy().wait_for_stderr("also listening on unix:", 5s)) << redacted_stderr();
  EXPECT_EQ(http_request(port(), write_request("POST", "A", "dev", "/")).status, 403u);
  EXPECT_EQ(upstream().request_count(), 0u);

  namespace net = boost::asio;
  namespace http = boost::beast::http;
  net::io_context ioc;
  net::local::stream_protocol::socket s(ioc);
  s.connect(net::local::stream_protocol::endpoint(sock));
  auto req = write_request("POST", "A", "dev", "/");
  net::write(s, net::buffer(serialize(req, port())));
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  EXPECT_EQ(res.result_int(), 200u);
  ASSERT_EQ(upstream().request_count(), 1u);
  EXPECT_EQ(upstream().requests()[0].method, "POST");
}

TEST_F(Policy, SighupReloadsThePolicyAndABrokenOneKeepsTheRunningPolicy) {
  auto path = policy_file("[[allow]]\nname = \"status only\"\noperations = [\"status\"]\n");
  start(ProxySetup{}.with_env({{"VAULT_PROXY_POLICY", path}}));
  EXPECT_EQ(http_get(port(), "/api/v3/secrets/raw?environment=dev").status, 403u);

  policy_file("extends = \"read-only\"\n");
  proxy().send_signal(SIGHUP);
  ASSERT_TRUE(proxy().wait_for_stderr("SIGHUP: log format", 5s));
  ASSERT_TRUE(proxy().wait_for_stderr("local policy: \"" + path + "\"", 5s)) << redacted_stderr();
  EXPECT_EQ(http_get(port(), "/api/v3/secrets/raw?environment=dev").status, 200u);

  policy_file("[[allow]]\nname = \"typo\"\noperation = [\"status\"]\n");
  proxy().send_signal(SIGHUP);
  ASSERT_TRUE(proxy().wait_for_stderr("SIGHUP: the local policy has errors, so the running policy stays", 5s));
  EXPECT_NE(proxy().stderr_text().find("allow[1].operation"), std::string::npos);
  EXPECT_EQ(http_get(port(), "/api/v3/secrets/raw?environment=dev").status, 200u);
}

TEST_F(Policy, ABadPolicyStopsTheStartWithTheFieldAndTheFix) {
  auto path = policy_file("[[allow]]\nname = \"x\"\noperations = [\"read-secrets\"]\n");
  ProxyProcess::Options o;
  o.env = {{"VAULT_PROXY_POLICY", path}, {"VAULT_PROXY_PORT", "0"}, {"CF_ACCESS_CLIENT_ID", "id.access"},
           {"CF_ACCESS_CLIENT_SECRET", "s"}, {"VAULT_PROXY_STATE_DIR", files_.file("state")}};
  o.wait_ready = false;
  ProxyProcess p(o);
  EXPECT_EQ(p.wait_exit(10s), 2);
  EXPECT_NE(p.stderr_text().find("policy file " + path + ": allow[1].operations"), std::string::npos) << p.stderr_text();
  EXPECT_NE(p.stderr_text().find("\"read-secrets\" is not an operation"), std::string::npos);

  ::chmod(path.c_str(), 0666);
  o.env["VAULT_PROXY_POLICY"] = path;
  ProxyProcess q(o);
  EXPECT_EQ(q.wait_exit(10s), 2);
  EXPECT_NE(q.stderr_text().find("is writable by its group or by others"), std::string::npos) << q.stderr_text();
}

}  // namespace
