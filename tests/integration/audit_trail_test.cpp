// The audit trail written by a running proxy (issue 18, docs/guardrails.md): one line per request
// that touches a secret, a folder or an identity, naming the process that sent it (over TCP and
// over the Unix socket, the test process itself and a child), never a value; and a trail that
// cannot be written never stops a request.

#include "core/audit.hpp"
#include "support/proxy_fixture.hpp"
#include "support/proxy_process.hpp"
#include "support/secrets.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

constexpr const char* secret_value = "aud1t-secret-VALUE-c41e";

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class AuditTrail : public ProxyTest {
 protected:
  void SetUp() override {
    vault_ = [](const RecordedRequest& r) {
      if (r.target.starts_with("/api/v3/secrets/raw/"))
        return Response::text(200, std::string(R"({"secret":{"secretKey":"DB_URL","secretValue":")") + secret_value +
                                       R"("}})",
                              "application/json");
      return Response::text(200, "{}", "application/json");
    };
  }

  void start_audited(std::map<std::string, std::string> extra = {}) {
    extra["VAULT_PROXY_AUDIT_LOG"] = audit_path_;
    start(ProxySetup{}.with_handler(vault_).with_env(extra));
  }

  /// The audit lines once `n` are there (the writer is asynchronous).
  std::vector<vp::core::AuditRecord> wait_records(std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    std::vector<std::string> lines;
    while (std::chrono::steady_clock::now() < deadline) {
      lines = lines_of(audit_path_);
      if (lines.size() >= n) break;
      std::this_thread::sleep_for(20ms);
    }
    std::vector<vp::core::AuditRecord> out;
    for (const auto& l : lines) {
      std::string problem;
      auto r = vp::core::parse_audit_line(l, &problem);
      EXPECT_TRUE(r) << problem << ": " << l;
      if (r) out.push_back(*r);
    }
    return out;
  }

  void TearDown() override {
    if (proxy_) {
      expect_no_secret(proxy().stderr_text() + proxy().stdout_text(), secret_value, "proxy output");
      expect_no_secret(slurp(audit_path_), secret_value, "audit file");
    }
    ProxyTest::TearDown();
  }

  TempDir files_;
  const std::string audit_path_ = files_.file("audit.jsonl");
  FakeUpstream::Handler vault_;
};

TEST_F(AuditTrail, ReadsAndWritesOverTcpNameThisProcessAndNoValue) {
  start_audited();
  HttpClient c(port());
  auto read = c.request({.target = "/api/v3/secrets/raw/DB_URL?workspaceId=p1&environment=dev&secretPath=%2Fapp"});
  ASSERT_EQ(read.status, 200u);
  ASSERT_NE(read.body.find(secret_value), std::string::npos);  // the client got the value
  EXPECT_EQ(c.request({.target = "/api/status"}).status, 200u);  // not a secret: not audited
  ClientRequest write{.method = "POST", .target = "/api/v3/secrets/raw/NEW_KEY"};
  write.headers = {{"Content-Type", "application/json"}};
  write.body = std::string(R"({"workspaceId":"p1","environment":"stg","secretPath":"/app/x","secretValue":")") +
               secret_value + R"("})";
  EXPECT_EQ(c.request(write).status, 200u);
  ASSERT_EQ(upstream().request_count(), 3u);
  EXPECT_EQ(upstream().requests()[2].body, write.body);  // held for its facts, forwarded unchanged

  auto recs = wait_records(2);
  ASSERT_EQ(recs.size(), 2u);
  const auto& r = recs[0];
  EXPECT_EQ(r.proxy_pid, static_cast<long>(proxy().pid()));
  EXPECT_EQ(r.listener, "tcp");
  EXPECT_EQ(r.client.pid, static_cast<long>(::getpid()));
  EXPECT_EQ(r.client.uid, static_cast<long>(::geteuid()));
  EXPECT_FALSE(r.client.command.empty());
  ASSERT_FALSE(r.client.ancestors.empty());
  EXPECT_EQ(r.client.ancestors[0], static_cast<long>(::getppid()));
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.operation, "read-secret");
  EXPECT_EQ(r.project, "p1");
  EXPECT_EQ(r.environment, "dev");
  EXPECT_EQ(r.secret_path, "/app");
  EXPECT_EQ(r.keys, std::vector<std::string>{"DB_URL"});
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.decision, "");
  const auto& w = recs[1];
  EXPECT_EQ(w.operation, "create-secret");
  EXPECT_EQ(w.environment, "stg");
  EXPECT_EQ(w.secret_path, "/app/x");
  EXPECT_EQ(w.keys, std::vector<std::string>{"NEW_KEY"});
  EXPECT_EQ(w.client.pid, r.client.pid);

  auto status = json::parse(http_get(port(), "/__vault-proxy/status").body);
  EXPECT_EQ(status["audit"]["path"], audit_path_);
  EXPECT_EQ(status["audit"]["written"], 2);
  EXPECT_EQ(status["audit"]["failed"], 0);
  EXPECT_EQ(status["audit"]["peer_lookups"], 1);  // one connection, one lookup

  // `vault-proxy audit` reads it back, naming this process.
  ProxyProcess::Options o;
  o.args = {"audit", "--file", audit_path_};
  o.wait_ready = false;
  ProxyProcess cmd(o);
  ASSERT_EQ(cmd.wait_exit(10s), 0) << cmd.stderr_text();
  EXPECT_NE(cmd.stdout_text().find("pid " + std::to_string(::getpid())), std::string::npos) << cmd.stdout_text();
  EXPECT_NE(cmd.stdout_text().find("dev:/app/DB_URL"), std::string::npos) << cmd.stdout_text();
  expect_no_secret(cmd.stdout_text() + cmd.stderr_text(), secret_value, "audit command output");
}

TEST_F(AuditTrail, AChildProcessIsNamedWithItsParent) {
  start_audited();
  const std::string request =
      "GET /api/v3/secrets/raw/DB_URL?workspaceId=p1&environment=dev HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Connection: close\r\n\r\n";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Only system calls between fork and _exit.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ::_exit(2);
    if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) ::_exit(3);
    char buf[4096];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
    ::_exit(0);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  auto recs = wait_records(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].client.pid, static_cast<long>(child));
  ASSERT_FALSE(recs[0].client.ancestors.empty());
  EXPECT_EQ(recs[0].client.ancestors[0], static_cast<long>(::getpid()));
}

TEST_F(AuditTrail, TheUnixSocketNamesItsPeerAndARefusalIsRecorded) {
  auto sock = files_.file("vp.sock");
  start_audited({{"VAULT_PROXY_UNIX_SOCKET", sock}, {"VAULT_PROXY_POLICY", "read-only"}});
  ASSERT_TRUE(proxy().wait_for_stderr("also listening on unix:", 5s)) << redacted_stderr();
  namespace net = boost::asio;
  net::io_context ioc;
  net::local::stream_protocol::socket s(ioc);
  s.connect(net::local::stream_protocol::endpoint(sock));
  const std::string body = std::string(R"({"environment":"dev","secretValue":")") + secret_value + R"("})";
  const std::string req = "DELETE /api/v3/secrets/raw/OLD HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                          "application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  net::write(s, net::buffer(req));
  std::string response;
  boost::system::error_code ec;
  net::read(s, net::dynamic_buffer(response), ec);
  EXPECT_NE(response.find("403"), std::string::npos) << response;
  EXPECT_EQ(upstream().request_count(), 0u);

  auto recs = wait_records(1);
  ASSERT_EQ(recs.size(), 1u);
  const auto& r = recs[0];
  EXPECT_EQ(r.listener, "unix");
  EXPECT_EQ(r.client.pid, static_cast<long>(::getpid()));
  EXPECT_EQ(r.client.uid, static_cast<long>(::geteuid()));
  EXPECT_EQ(r.operation, "delete-secret");
  EXPECT_EQ(r.keys, std::vector<std::string>{"OLD"});
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(r.diagnosis, "local_policy");
  EXPECT_EQ(r.decision, "refuse");
  EXPECT_EQ(r.rule, "no allow rule");
}

TEST_F(AuditTrail, ATrailThatCannotBeWrittenNeverStopsARequest) {
  // The audit file's directory is a regular file: every write fails (ENOTDIR), as on a full or
  // read-only disk, and that also holds for root.
  const auto blocker = files_.file("not-a-dir");
  write_file(blocker, "x");
  start(ProxySetup{}.with_handler(vault_).with_env({{"VAULT_PROXY_AUDIT_LOG", blocker + "/audit.jsonl"}}));
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(http_get(port(), "/api/v3/secrets/raw/DB_URL?environment=dev").status, 200u);
  json audit;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    audit = json::parse(http_get(port(), "/__vault-proxy/status").body)["audit"];
    if (audit["failed"].get<int>() >= 3) break;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(audit["failed"], 3);
  EXPECT_EQ(audit["written"], 0);
  ASSERT_TRUE(audit["last_problem"].is_string());
  EXPECT_NE(audit["last_problem"].get<std::string>().find(blocker), std::string::npos) << audit.dump();
  EXPECT_EQ(upstream().request_count(), 3u);
}

}  // namespace
