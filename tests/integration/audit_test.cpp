// `vault-proxy audit` against a prepared audit trail (several processes, a rotated file, a line
// that does not parse), `--since` cuts, refused files, and `run`'s report of what its command read
// through its own proxy. The binary is run to completion; its output lines are compared exactly.

#include "core/audit.hpp"
#include "support/proxy_fixture.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <filesystem>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using sys_clock = std::chrono::system_clock;
using vp::core::AuditClient;
using vp::core::AuditRecord;

const AuditClient mcp{.pid = 4242, .uid = 1000, .command = "node /usr/bin/infisical-mcp", .ancestors = {4200}};
const AuditClient script{.pid = 5151, .uid = 1000, .command = "python3 deploy.py", .ancestors = {5100, 1}};

std::string rec(sys_clock::time_point t, const AuditClient& client, std::string method, std::string operation,
                std::string path, std::vector<std::string> keys, unsigned status = 200, std::string decision = "",
                std::string rule = "") {
  AuditRecord r;
  r.time = t;
  r.proxy_pid = 99;
  r.listener = "tcp";
  r.client = client;
  r.method = std::move(method);
  r.operation = std::move(operation);
  r.project = "p1";
  r.environment = "prod";
  r.secret_path = std::move(path);
  r.keys = std::move(keys);
  r.status = status;
  r.decision = std::move(decision);
  r.rule = std::move(rule);
  return vp::core::format_audit_line(r) + "\n";
}

class AuditCommand : public ::testing::Test {
 protected:
  TempDir state_{"vp-audit-state-"};
  const std::string path_ = state_.file("audit.jsonl");
  const sys_clock::time_point now_ = sys_clock::now();
  std::map<std::string, std::string> env_{{"VAULT_PROXY_STATE_DIR", state_.path()}};

  /// Two processes over three files: the rotated one holds the oldest records, one line is cut short.
  void write_trail() {
    const auto old = now_ - 3h, recent = now_ - 10min;
    write_file(path_ + ".1", rec(old, mcp, "GET", "read-secret", "/app", {"DB_URL"}) +
                                 rec(old, mcp, "GET", "list-secrets", "/app", {}) +
                                 rec(old, script, "GET", "read-secret", "/deploy", {"SSH_KEY"}));
    write_file(path_, rec(recent, mcp, "GET", "read-secret", "/app", {"DB_URL"}) +
                          rec(recent, mcp, "POST", "create-secret", "/app", {"X"}, 403, "refuse", "read-only") +
                          "{\"ts\":\"2026-12-03T15:0\n" +
                          rec(recent, script, "POST", "login", "", {}) +
                          rec(recent, mcp, "GET", "read-secret", "/app", {"DB_URL"}));
  }
};

TEST_F(AuditCommand, SummarisesEveryFileOldestFirst) {
  write_trail();
  auto r = run_cli({"audit"}, env_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "audit trail " + path_ + "\n"
                   "pid 4242 uid 1000 node /usr/bin/infisical-mcp (parent 4200)\n"
                   "  read  prod:/app/DB_URL  (3×)\n"
                   "  list  prod:/app\n"
                   "  refused  POST create-secret prod:/app/X  (read-only)\n"
                   "pid 5151 uid 1000 python3 deploy.py (parent 5100)\n"
                   "  read  prod:/deploy/SSH_KEY\n"
                   "  login\n"
                   "totals: 2 processes, 4 reads of 2 secrets, 1 list, 0 writes, 1 refusal, 0 failures, 1 login\n");
  EXPECT_EQ(r.err, "vault-proxy audit: 1 line could not be read (cut short by a full disk or a crash, or not an "
                   "audit record); the rest is summarised\n");
}

TEST_F(AuditCommand, SinceCutsTheOlderRecordsAndPidKeepsOneProcess) {
  write_trail();
  auto r = run_cli({"audit", "--since", "1h", "--pid", "4242"}, env_);
  EXPECT_EQ(r.code, 0) << r.err;
  auto lines = r.out.substr(r.out.find('\n') + 1);
  EXPECT_TRUE(r.out.starts_with("audit trail " + path_ + " since ")) << r.out;
  EXPECT_EQ(lines, "pid 4242 uid 1000 node /usr/bin/infisical-mcp (parent 4200)\n"
                   "  read  prod:/app/DB_URL  (2×)\n"
                   "  refused  POST create-secret prod:/app/X  (read-only)\n"
                   "totals: 1 process, 2 reads of 1 secret, 0 lists, 0 writes, 1 refusal, 0 failures, 0 logins\n");
}

TEST_F(AuditCommand, NothingSinceATimeIsSuccess) {
  write_trail();
  auto r = run_cli({"audit", "--since", "2099-01-01T00:00:00Z"}, env_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "no audit records since 2099-01-01T00:00:00.000Z\n");
}

TEST_F(AuditCommand, JsonIsTheSummary) {
  write_trail();
  auto r = run_cli({"audit", "--json", "--file", path_}, {});
  EXPECT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["files"], nlohmann::json::array({path_ + ".1", path_}));
  EXPECT_EQ(j["totals"]["reads"], 4);
  EXPECT_EQ(j["unreadable_lines"], 1);
  EXPECT_EQ(j["processes"][0]["refusals"][0]["rule"], "read-only");
}

TEST_F(AuditCommand, ABadSinceIsAUsageError) {
  auto r = run_cli({"audit", "--since", "a while"}, env_);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--since 'a while' is neither a duration nor a time; give a whole number with s, m, h or d"),
            std::string::npos)
      << r.err;
}

TEST_F(AuditCommand, AGroupWritableFileIsRefusedByName) {
  write_trail();
  ASSERT_EQ(::chmod(path_.c_str(), 0620), 0);
  auto r = run_cli({"audit"}, env_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("vault-proxy audit: refused " + path_ + " is writable by its group or by others (mode 0620); "
                       "its records were not read"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("  read  prod:/app/DB_URL\n"), std::string::npos) << "the rotated file is still read:\n" << r.out;
}

TEST_F(AuditCommand, ASymlinkedFileIsRefusedByNameAndNotFollowed) {
  TempDir elsewhere{"vp-audit-elsewhere-"};
  write_file(elsewhere.file("planted"), rec(now_, mcp, "GET", "read-secret", "/fake", {"PLANTED"}));
  fs::create_symlink(elsewhere.file("planted"), path_);
  auto r = run_cli({"audit"}, env_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("vault-proxy audit: refused " + path_ + " is a symbolic link"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("PLANTED"), std::string::npos) << r.out;
}

TEST_F(AuditCommand, OffSaysSo) {
  env_["VAULT_PROXY_AUDIT_LOG"] = "off";
  auto r = run_cli({"audit"}, env_);
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(r.out.starts_with("the audit trail is off")) << r.out;
}

// ---- run's report --------------------------------------------------------------------------------

class RunAuditReport : public ::testing::Test {
 protected:
  TempDir state_{"vp-run-audit-"};
  std::map<std::string, std::string> env_{
      {"VAULT_PROXY_STATE_DIR", state_.path()},
      {"VAULT_PROXY_UPSTREAM", "https://vault.test"},
      {"VAULT_PROXY_CONNECT_TO", "127.0.0.1:" + std::to_string(unused_port())},
      {"VAULT_PROXY_CA_FILE", shared_pki().ca_pem},
  };
};

// The report keeps the records of this run's proxy only: the command appends one as its proxy
// would (the proxy's pid from its state file) and one of another proxy, which is left out.
TEST_F(RunAuditReport, PrintsWhatThisSessionsProxyRecorded) {
  const std::string script =
      "pid=$(sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p' \"$VAULT_PROXY_STATE_DIR/serve-$VAULT_PROXY_PORT.json\"); "
      "ts=$(date -u +%Y-%m-%dT%H:%M:%S.000Z); "
      "printf '{\"ts\":\"%s\",\"proxy_pid\":%s,\"client\":{\"pid\":%s,\"command\":\"sh\"},\"method\":\"GET\","
      "\"operation\":\"read-secret\",\"environment\":\"dev\",\"secret_path\":\"/\",\"keys\":[\"TOKEN_NAME\"],"
      "\"status\":200}\\n' \"$ts\" \"$pid\" $$ >> \"$VAULT_PROXY_STATE_DIR/audit.jsonl\"; "
      "printf '{\"ts\":\"%s\",\"proxy_pid\":1,\"method\":\"GET\",\"operation\":\"read-secret\",\"keys\":[\"OTHER\"],"
      "\"status\":200}\\n' \"$ts\" >> \"$VAULT_PROXY_STATE_DIR/audit.jsonl\"; exit 3";
  auto r = run_cli({"run", "--port", "0", "--", "sh", "-c", script}, env_);
  EXPECT_EQ(r.code, 3) << "the report does not change the command's status\n" << r.err;
  const std::string header = "vault-proxy: what this session read (audit trail " + state_.file("audit.jsonl") + ")\n";
  auto at = r.err.find(header);
  ASSERT_NE(at, std::string::npos) << r.err;
  const std::string report = r.err.substr(at + header.size());
  EXPECT_NE(report.find("  read  dev:/TOKEN_NAME\n"), std::string::npos) << report;
  EXPECT_EQ(report.find("OTHER"), std::string::npos) << "another proxy's record: " << report;
}

// A real session: the command reads through its proxy with curl and is refused a write by the
// read-only policy; the report names both, under the curl process.
TEST_F(RunAuditReport, ACommandsReadsAndRefusalsThroughItsProxy) {
  FakeUpstream vault(shared_pki().valid);
  env_["VAULT_PROXY_CONNECT_TO"] = vault.address();
  env_["CF_ACCESS_CLIENT_ID"] = "run-audit.access";
  env_["CF_ACCESS_CLIENT_SECRET"] = "run-audit-secret-5d0e";
  const std::string script =
      "curl -sf \"$VAULT_PROXY_URL/api/v3/secrets/raw/DB_URL?workspaceId=p1&environment=dev&secretPath=%2Fapp\" "
      ">/dev/null || exit 9; "
      "curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '{\"environment\":\"dev\"}' "
      "\"$VAULT_PROXY_URL/api/v3/secrets/raw/NEW_ONE\"; exit 3";
  auto r = run_cli({"run", "--port", "0", "--policy", "read-only", "--", "sh", "-c", script}, env_);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(vault.request_count(), 1u) << "the refused write reached the upstream";
  const std::string header = "vault-proxy: what this session read (audit trail " + state_.file("audit.jsonl") + ")\n";
  auto at = r.err.find(header);
  ASSERT_NE(at, std::string::npos) << r.err;
  const std::string report = r.err.substr(at + header.size());
  EXPECT_NE(report.find("curl"), std::string::npos) << report;
  EXPECT_NE(report.find("  read  dev:/app/DB_URL\n"), std::string::npos) << report;
  EXPECT_NE(report.find("create-secret"), std::string::npos) << report;
  EXPECT_NE(report.find("no allow rule"), std::string::npos) << report;
  EXPECT_EQ(r.err.find("run-audit-secret-5d0e"), std::string::npos);
}

TEST_F(RunAuditReport, NoRecordsSaysNoSecretsAndOffSaysNothing) {
  auto r = run_cli({"run", "--port", "0", "--", "true"}, env_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("vault-proxy: this session read no secrets\n"), std::string::npos) << r.err;

  env_["VAULT_PROXY_AUDIT_LOG"] = "off";
  auto off = run_cli({"run", "--port", "0", "--", "true"}, env_);
  EXPECT_EQ(off.code, 0) << off.err;
  EXPECT_EQ(off.err.find("this session"), std::string::npos) << off.err;
}

}  // namespace
