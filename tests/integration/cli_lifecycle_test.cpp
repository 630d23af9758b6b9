// The runbook's session commands against the real binary: `serve` records itself in the state file,
// `status` reports it, `stop` stops exactly that process (and nothing a forged state file points
// at), and `run` wraps a command with a proxy and hands back the command's exit status.

#include "cli/runtime_state.hpp"
#include "support/proxy_fixture.hpp"
#include "support/secrets.hpp"

#include <boost/asio.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

extern char** environ;

namespace {

using namespace vp::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using json = nlohmann::json;

mode_t mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

/// Polls for `path` (the state file is written right after the readiness line).
bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return fs::exists(path);
}

bool wait_until_gone(const std::string& path, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!fs::exists(path)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return !fs::exists(path);
}

/// A `sleep` child standing in for an unrelated process that a forged state file names.
struct Bystander {
  pid_t pid = -1;
  Bystander() {
    char arg0[] = "sleep", arg1[] = "60";
    char* argv[] = {arg0, arg1, nullptr};
    EXPECT_EQ(::posix_spawnp(&pid, "sleep", nullptr, nullptr, argv, environ), 0);
  }
  ~Bystander() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  /// Still running (not exited, not killed).
  bool alive() const {
    int status = 0;
    return ::waitpid(pid, &status, WNOHANG) == 0;
  }
};

class CliLifecycle : public ProxyTest {
 protected:
  TempDir state_{"vp-state-"};

  void start_recorded(ProxySetup setup = {}) {
    setup.env["VAULT_PROXY_STATE_DIR"] = state_.path();
    start(std::move(setup));
    ASSERT_TRUE(wait_for_file(state_file())) << "serve wrote no state file\n" << redacted_stderr();
  }
  std::string state_file() const { return state_.path() + "/serve-" + std::to_string(port()) + ".json"; }
  /// Environment for a CLI command that looks at the same state directory.
  std::map<std::string, std::string> cli_env() const { return {{"VAULT_PROXY_STATE_DIR", state_.path()}}; }
};

TEST_F(CliLifecycle, ServeRecordsItselfAndRemovesTheFileAtCleanExit) {
  start_recorded();
  EXPECT_EQ(mode_of(state_file()), 0600u);
  EXPECT_EQ(mode_of(state_.path()), 0700u);
  auto j = json::parse(read_file(state_file()));
  EXPECT_EQ(j["pid"], proxy().pid());
  EXPECT_EQ(j["port"], port());
  EXPECT_EQ(j["listen"], "127.0.0.1");
  EXPECT_EQ(j["upstream"], "https://vault.test");
  EXPECT_EQ(j["proc_start_ticks"], vp::cli::read_proc(proxy().pid())->start_ticks);
  EXPECT_NO_SECRET(j.dump(), client_secret);
  EXPECT_NO_SECRET(j.dump(), client_id);

  proxy().send_signal(SIGTERM);
  auto code = proxy().wait_exit(15s);
  stopped_by_test_ = true;
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_FALSE(fs::exists(state_file())) << "the state file outlived a clean exit";
}

TEST_F(CliLifecycle, StatusJsonReportsTheRunningProxy) {
  start_recorded();
  EXPECT_EQ(http_get(port(), "/api/status").status, 200u);
  auto r = run_cli({"status", "--json"}, cli_env());
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["running"], true);
  ASSERT_EQ(j["proxies"].size(), 1u) << r.out;
  auto& p = j["proxies"][0];
  EXPECT_EQ(p["pid"], proxy().pid());
  EXPECT_EQ(p["port"], port());
  EXPECT_EQ(p["upstream"], "https://vault.test");
  EXPECT_EQ(p["url"], "http://127.0.0.1:" + std::to_string(port()));
  EXPECT_TRUE(p["uptime_s"].is_number()) << r.out;
  EXPECT_EQ(p["endpoint"], "ok") << r.out;
  if (p["endpoint"] == "ok") {
    EXPECT_GE(p["status"]["requests"]["proxied"].get<int>(), 1) << r.out;
    EXPECT_EQ(p["status"]["credentials"]["loaded"], true) << r.out;
    EXPECT_EQ(p["status"]["credentials"]["fingerprint"].get<std::string>().size(), 12u) << r.out;
  }
  EXPECT_NO_SECRET(r.out + r.err, client_secret);
  EXPECT_NO_SECRET(r.out + r.err, client_id);
}

TEST_F(CliLifecycle, StatusHumanOutputNamesPidPortAndFingerprint) {
  start_recorded();
  auto r = run_cli({"status", "--port", std::to_string(port())}, cli_env());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("vault-proxy is running (pid " + std::to_string(proxy().pid()) + ", port " +
                       std::to_string(port()) + ")"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("https://vault.test"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fingerprint"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("uptime"), std::string::npos) << r.out;
  EXPECT_NO_SECRET(r.out + r.err, client_secret);
}

TEST_F(CliLifecycle, StopStopsTheRecordedProxy) {
  start_recorded();
  auto r = run_cli({"stop", "--port", std::to_string(port())}, cli_env());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("stopped vault-proxy (pid " + std::to_string(proxy().pid())), std::string::npos) << r.out;
  auto code = proxy().wait_exit(5s);
  stopped_by_test_ = true;
  ASSERT_TRUE(code) << "stop returned but the proxy is still running";
  EXPECT_EQ(*code, 0) << "SIGTERM drains and exits 0";
  EXPECT_FALSE(fs::exists(state_file()));

  auto status = run_cli({"status"}, cli_env());
  EXPECT_EQ(status.code, 4) << status.out << status.err;
  EXPECT_NE(status.out.find("not running"), std::string::npos) << status.out;
  auto again = run_cli({"stop"}, cli_env());
  EXPECT_EQ(again.code, 4) << again.out << again.err;
  EXPECT_NE(again.out.find("nothing to stop"), std::string::npos) << again.out;
}

TEST_F(CliLifecycle, StopRefusesToKillAProcessThatIsNotTheRecordedProxy) {
  Bystander sleeper;
  ASSERT_GT(sleeper.pid, 0);
  // A forged file with the right start time: only the binary check stands between stop and sleep.
  vp::cli::RuntimeState forged;
  forged.pid = sleeper.pid;
  forged.port = 2999;
  forged.listen = "127.0.0.1";
  forged.upstream = "https://vault.test";
  forged.started_at = "2026-01-01T00:00:00Z";
  forged.proc_start_ticks = vp::cli::read_proc(sleeper.pid)->start_ticks;
  const std::string path = vp::cli::write_state(state_.path(), forged);

  for (auto args : {std::vector<std::string>{"stop", "--port", "2999", "--timeout", "1"},
                    std::vector<std::string>{"stop", "--timeout", "1"}}) {
    auto r = run_cli(args, cli_env());
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("refusing to signal pid " + std::to_string(sleeper.pid)), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("not a vault-proxy binary"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Nothing was killed"), std::string::npos) << r.err;
    std::this_thread::sleep_for(100ms);  // a signal, had one been sent, lands within this
    EXPECT_TRUE(sleeper.alive()) << "stop killed an unrelated process";
    EXPECT_TRUE(fs::exists(path)) << "the suspicious file is left for a human to look at";
  }
  auto status = run_cli({"status"}, cli_env());
  EXPECT_EQ(status.code, 4);
  EXPECT_NE(status.err.find("left alone"), std::string::npos) << status.err;
  EXPECT_TRUE(sleeper.alive());
}

TEST_F(CliLifecycle, StopTreatsARecycledPidAsStale) {
  Bystander sleeper;
  vp::cli::RuntimeState old;
  old.pid = sleeper.pid;
  old.port = 2998;
  old.proc_start_ticks = vp::cli::read_proc(sleeper.pid)->start_ticks - 1;  // "the proxy" started earlier
  const std::string path = vp::cli::write_state(state_.path(), old);
  auto r = run_cli({"stop", "--port", "2998"}, cli_env());
  EXPECT_EQ(r.code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("removed the stale state file"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("pid was reused"), std::string::npos) << r.err;
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(sleeper.alive());
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(CliLifecycle, StopAfterSigkillCleansTheLeftoverFile) {
  start_recorded();
  const std::string file = state_file();
  proxy().send_signal(SIGKILL);
  ASSERT_TRUE(proxy().wait_exit(5s));
  stopped_by_test_ = true;
  ASSERT_TRUE(fs::exists(file)) << "SIGKILL leaves the file behind";
  auto r = run_cli({"status", "--json"}, cli_env());
  EXPECT_EQ(r.code, 4);
  auto j = json::parse(r.out);
  EXPECT_EQ(j["running"], false);
  ASSERT_EQ(j["notes"].size(), 1u) << r.out;
  EXPECT_NE(j["notes"][0].get<std::string>().find("removed the stale state file"), std::string::npos);
  EXPECT_FALSE(fs::exists(file));
}

TEST_F(CliLifecycle, StopRevertRemovesTheMcpEntry) {
  start_recorded();
  TempDir project{"vp-project-"};
  const std::string mcp = project.file(".mcp.json");
  write_file(mcp, R"({"mcpServers": {"other": {"command": "x", "args": ["1"]}}})");
  auto env = cli_env();
  auto cfg = run_cli({"mcp-config", "--path", mcp}, env);
  ASSERT_EQ(cfg.code, 0) << cfg.err;
  auto written = json::parse(read_file(mcp));
  EXPECT_EQ(written["mcpServers"]["infisical"]["env"]["INFISICAL_HOST_URL"],
            "${VAULT_PROXY_URL:-http://127.0.0.1:" + std::to_string(port()) + "}")
      << "mcp-config points at the running proxy";

  auto r = run_cli({"stop", "--revert", "--mcp-json", mcp}, env);
  EXPECT_EQ(r.code, 0) << r.err;
  stopped_by_test_ = true;
  EXPECT_TRUE(proxy().wait_exit(5s));
  EXPECT_EQ(json::parse(read_file(mcp)), json::parse(R"({"mcpServers": {"other": {"command": "x", "args": ["1"]}}})"));
  EXPECT_NE(r.out.find("removed the \"infisical\" entry"), std::string::npos) << r.out;
}

TEST_F(CliLifecycle, StopRevertWithNoProxyRunningSucceedsOnceTheEntryIsReverted) {
  // Chained as `stop --revert && …`, "nothing to stop" plus "reverted" must not read as a failure.
  TempDir project{"vp-project-"};
  const std::string mcp = project.file(".mcp.json");
  write_file(mcp, R"({"mcpServers": {"other": {"command": "x"}}})");
  auto env = cli_env();
  ASSERT_EQ(run_cli({"mcp-config", "--path", mcp, "--url", "http://127.0.0.1:2019"}, env).code, 0);

  auto r = run_cli({"stop", "--revert", "--mcp-json", mcp}, env);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("nothing to stop"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("removed the \"infisical\" entry"), std::string::npos) << r.out;
  EXPECT_EQ(json::parse(read_file(mcp)), json::parse(R"({"mcpServers": {"other": {"command": "x"}}})"));

  // Again: nothing to stop and nothing of ours to revert is still the end state the stop wants.
  EXPECT_EQ(run_cli({"stop", "--revert", "--mcp-json", mcp}, env).code, 0);
  // Without --revert, "not running" keeps its own code.
  EXPECT_EQ(run_cli({"stop"}, env).code, 4);
  // A revert that fails keeps its failure: an invalid .mcp.json is 2.
  write_file(mcp, "{not json");
  EXPECT_EQ(run_cli({"stop", "--revert", "--mcp-json", mcp}, env).code, 2);
}

TEST_F(CliLifecycle, TheRunbookScriptsEntryIsRecognisedAndRevertedWithWhatItMatched) {
  // What enable-vault-mcp.sh wrote before mcp-config existed: no VAULT_PROXY_MANAGED marker.
  const std::string runbook_entry = R"({"mcpServers": {
    "infisical": {"command": "npx", "args": ["-y", "@infisical/mcp-server"],
                  "env": {"INFISICAL_HOST_URL": "http://localhost:2019",
                          "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID": "${INFISICAL_MCP_CLIENT_ID}"}},
    "other": {"command": "node", "args": ["x.js"]}}})";
  TempDir project{"vp-project-"};
  const std::string mcp = project.file(".mcp.json");
  write_file(mcp, runbook_entry);
  auto r = run_cli({"stop", "--revert", "--mcp-json", mcp}, cli_env());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("removed the \"infisical\" entry"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("counted as ours: it runs the Infisical MCP server against this machine's proxy"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(json::parse(read_file(mcp)), json::parse(R"({"mcpServers": {"other": {"command": "node", "args": ["x.js"]}}})"));

  write_file(mcp, runbook_entry);
  auto removed = run_cli({"mcp-config", "--remove", "--path", mcp, "--json"}, cli_env());
  EXPECT_EQ(removed.code, 0) << removed.err;
  auto report = json::parse(removed.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << removed.out;
  EXPECT_EQ(report["removed"], json::array({"infisical"}));
  EXPECT_NE(report["matched"][0].get<std::string>().find("enable script"), std::string::npos) << removed.out;

  // Pointing anywhere but this machine, it is not ours: left in place, exit 1.
  write_file(mcp, R"({"mcpServers": {"infisical": {"command": "npx", "args": ["-y", "@infisical/mcp"],
                      "env": {"INFISICAL_HOST_URL": "https://vault.example"}}}})");
  EXPECT_EQ(run_cli({"mcp-config", "--remove", "--path", mcp}, cli_env()).code, 1);
  EXPECT_TRUE(json::parse(read_file(mcp))["mcpServers"].contains("infisical"));
}

TEST_F(CliLifecycle, McpConfigFromASubfolderWritesAtTheRepositoryRoot) {
  TempDir project{"vp-project-"};
  fs::create_directories(project.file(".git"));
  fs::create_directories(project.file("src/deep"));
  ProxyProcess::Options o;
  o.binary = "/bin/sh";
  o.args = {"-c", "cd \"$0\" && exec \"$1\" mcp-config --url http://127.0.0.1:2019", project.file("src/deep"),
            VP_BINARY};
  o.env = cli_env();
  o.wait_ready = false;
  ProxyProcess p(o);
  ASSERT_EQ(p.wait_exit(60s), std::optional<int>(0)) << p.stderr_text();
  EXPECT_TRUE(fs::exists(project.file(".mcp.json")));
  EXPECT_FALSE(fs::exists(project.file("src/deep/.mcp.json"))) << "a stray second file";
  EXPECT_NE(p.stdout_text().find(project.file(".mcp.json") + " (the repository root)"), std::string::npos)
      << p.stdout_text();
}

TEST_F(CliLifecycle, CapabilityPrefixIsUsedByStatusAndWrittenByMcpConfig) {
  ProxySetup setup;
  setup.env["VAULT_PROXY_CAPABILITY"] = "true";
  start_recorded(setup);
  auto state = json::parse(read_file(state_file()));
  ASSERT_TRUE(state["capability_file"].is_string()) << state.dump();
  std::string token = read_file(state["capability_file"].get<std::string>());
  while (!token.empty() && token.back() == '\n') token.pop_back();
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(state.dump().find(token), std::string::npos) << "the state file names the file, not the prefix";

  auto r = run_cli({"status", "--json"}, cli_env());
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["proxies"][0]["endpoint"], "ok") << "status must send the prefix: " << r.out;
  EXPECT_EQ(j["proxies"][0]["capability"], true);
  EXPECT_EQ(r.out.find(token), std::string::npos) << "status never prints the prefix";

  TempDir project{"vp-project-"};
  auto cfg = run_cli({"mcp-config", "--path", project.file(".mcp.json")}, cli_env());
  ASSERT_EQ(cfg.code, 0) << cfg.err;
  auto doc = json::parse(read_file(project.file(".mcp.json")));
  EXPECT_EQ(doc["mcpServers"]["infisical"]["env"]["INFISICAL_HOST_URL"],
            "${VAULT_PROXY_URL:-http://127.0.0.1:" + std::to_string(port()) + "/" + token + "}");
  EXPECT_EQ(cfg.out.find(token), std::string::npos) << "the prefix is masked in output: " << cfg.out;
  EXPECT_NE(cfg.out.find("/<capability>"), std::string::npos) << cfg.out;
  EXPECT_NE(cfg.err.find("run mcp-config again after a restart"), std::string::npos) << cfg.err;
}

// ---- run -----------------------------------------------------------------------------------------

class RunCommand : public ::testing::Test {
 protected:
  TempDir state_{"vp-run-state-"};
  TempDir work_{"vp-run-"};
  std::map<std::string, std::string> env_{
      {"VAULT_PROXY_STATE_DIR", state_.path()},
      {"VAULT_PROXY_UPSTREAM", "https://vault.test"},
      {"VAULT_PROXY_CONNECT_TO", "127.0.0.1:" + std::to_string(unused_port())},
      {"VAULT_PROXY_CA_FILE", shared_pki().ca_pem},
      {"VAULT_PROXY_LISTEN", "127.0.0.1"},
  };

  /// No serve-*.json left: the proxy was stopped and cleaned up after itself.
  void expect_no_proxy_left() {
    for (auto& e : fs::directory_iterator(state_.path()))
      EXPECT_FALSE(e.path().filename().string().starts_with("serve-")) << e.path() << " still exists";
  }
};

TEST_F(RunCommand, PropagatesTheExitStatusAndExportsTheProxyUrl) {
  const std::string seen = work_.file("seen");
  env_["CF_ACCESS_CLIENT_ID"] = random_token(8) + ".access";
  env_["CF_ACCESS_CLIENT_SECRET"] = random_token(24);
  auto r = run_cli({"run", "--port", "0", "--", "sh", "-c",
                    "printf '%s\\n%s\\n%s\\n' \"$INFISICAL_HOST_URL\" \"$VAULT_PROXY_URL\" "
                    "\"${CF_ACCESS_CLIENT_SECRET:-unset}\" > \"$0\"; exit 7",
                    seen},
                   env_);
  EXPECT_EQ(r.code, 7) << r.err;
  const std::string text = read_file(seen);
  auto nl = text.find('\n');
  ASSERT_NE(nl, std::string::npos) << "the command did not run";
  const std::string url = text.substr(0, nl);
  EXPECT_TRUE(url.starts_with("http://127.0.0.1:")) << url;
  EXPECT_NE(url, "http://127.0.0.1:0");
  EXPECT_NE(url, "http://127.0.0.1:2019") << "--port 0 asks for an ephemeral port";
  EXPECT_EQ(text, url + "\n" + url + "\nunset\n") << "the service token stays with the proxy";
  EXPECT_NE(r.err.find("proxy ready on " + url), std::string::npos) << r.err;
  EXPECT_NO_SECRET(r.out + r.err, env_["CF_ACCESS_CLIENT_SECRET"]);
  expect_no_proxy_left();
  auto port = std::stoi(url.substr(url.rfind(':') + 1));
  EXPECT_ANY_THROW(HttpClient(static_cast<std::uint16_t>(port), 2s)) << "the proxy still listens";
}

TEST_F(RunCommand, TheCommandReachesTheProxyThroughVaultProxyUrl) {
  auto r = run_cli({"run", "--port", "0", "--", "sh", "-c", "curl -sS \"$VAULT_PROXY_URL/__vault-proxy/health\""},
                   env_);
  EXPECT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "stdout holds only the command's output: " << r.out;
  EXPECT_EQ(j["status"], "ok");
  expect_no_proxy_left();
}

TEST_F(RunCommand, WithTheCapabilityOnTheCommandGetsThePrefixedUrl) {
  env_["VAULT_PROXY_CAPABILITY"] = "true";
  // /__vault-proxy/status needs the prefix (only health is exempt), so this only works with it.
  auto r = run_cli({"run", "--port", "0", "--", "sh", "-c",
                    "curl -sS -o /dev/null -w '%{http_code}' \"$VAULT_PROXY_URL/__vault-proxy/status\""},
                   env_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "200") << r.err;
  EXPECT_NE(r.err.find("with its capability prefix"), std::string::npos) << r.err;
  expect_no_proxy_left();
}

TEST_F(RunCommand, ASignalKillingTheCommandGives128PlusSignal) {
  auto r = run_cli({"run", "--port", "0", "--", "sh", "-c", "kill -TERM $$"}, env_);
  EXPECT_EQ(r.code, 128 + SIGTERM) << r.err;
  expect_no_proxy_left();
}

TEST_F(RunCommand, SigtermToRunIsForwardedToTheCommand) {
  const std::string started = work_.file("started");
  ProxyProcess::Options o;
  o.env = env_;
  o.args = {"run", "--port", "0", "--", "sh", "-c", "echo up > \"$0\"; exec sleep 30", started};
  o.wait_ready = false;
  ProxyProcess run(o);
  ASSERT_TRUE(wait_for_file(started, 15s)) << run.stderr_text();
  run.send_signal(SIGTERM);
  auto code = run.wait_exit(20s);
  ASSERT_TRUE(code) << "run did not end after SIGTERM\n" << run.stderr_text();
  EXPECT_EQ(*code, 128 + SIGTERM) << run.stderr_text();
  expect_no_proxy_left();
}

TEST_F(RunCommand, ACommandThatDoesNotExistGives127) {
  auto r = run_cli({"run", "--port", "0", "--", "vp-no-such-command-xyz"}, env_);
  EXPECT_EQ(r.code, 127) << r.err;
  EXPECT_NE(r.err.find("cannot run 'vp-no-such-command-xyz'"), std::string::npos) << r.err;
  expect_no_proxy_left();
}

TEST_F(RunCommand, AProxyThatCannotListenMeansTheCommandNeverRuns) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor holder(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto taken = holder.local_endpoint().port();
  const std::string marker = work_.file("ran");
  auto r = run_cli({"run", "--port", std::to_string(taken), "--", "sh", "-c", "touch \"$0\"", marker}, env_);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_FALSE(fs::exists(marker)) << "the command ran without a proxy";
  EXPECT_NE(r.err.find("the proxy did not start"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::to_string(taken)), std::string::npos) << "the proxy's own message is shown\n" << r.err;
}

TEST_F(RunCommand, TheMcpEntryExpandedAsClaudeCodeDoesReachesThisRunsProxyOnAnEphemeralPort) {
  // .mcp.json written for the default port, before the run; nothing listens on 2019 in this test.
  const std::string mcp = work_.file(".mcp.json");
  ASSERT_EQ(run_cli({"mcp-config", "--path", mcp, "--port", "2019"}, env_).code, 0);
  // Inside the run, expand INFISICAL_HOST_URL the way Claude Code does (${VAR}, ${VAR:-default})
  // and call the proxy there.
  const std::string expand =
      "import json,os,re,sys\n"
      "v=json.load(open(sys.argv[1]))['mcpServers']['infisical']['env']['INFISICAL_HOST_URL']\n"
      "f=lambda m: os.environ.get(m.group(1)) or (m.group(3) if m.group(2) else '')\n"
      "print(re.sub(r'\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\\}', f, v))\n";
  const std::string seen = work_.file("seen");
  auto r = run_cli({"run", "--port", "0", "--", "sh", "-c",
                    "url=$(python3 -c \"$1\" \"$2\") && echo \"$url\" > \"$0\" && "
                    "curl -sS \"$url/__vault-proxy/health\" >> \"$0\"",
                    seen, expand, mcp},
                   env_);
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string text = read_file(seen);
  const auto nl = text.find('\n');
  ASSERT_NE(nl, std::string::npos) << "the command did not run: " << r.err;
  const std::string url = text.substr(0, nl);
  EXPECT_TRUE(url.starts_with("http://127.0.0.1:")) << url;
  EXPECT_NE(url, "http://127.0.0.1:2019") << "the entry still pins the default port inside the run";
  EXPECT_NE(r.err.find("proxy ready on " + url), std::string::npos) << "the URL is this run's proxy\n" << r.err;
  auto health = json::parse(text.substr(nl + 1), nullptr, false);
  ASSERT_TRUE(health.is_object()) << text;
  EXPECT_EQ(health["status"], "ok");
}

TEST_F(RunCommand, ALogFileThatIsASymlinkIsRefusedAndTheCommandNeverRuns) {
  // --log-file in /tmp: another user could plant a link to a file of the victim's there.
  const std::string victim = work_.file("victim");
  write_file(victim, "keep\n", 0600);
  const std::string link = work_.file("run.log");
  ASSERT_EQ(::symlink(victim.c_str(), link.c_str()), 0);
  const std::string marker = work_.file("ran");
  auto r = run_cli({"run", "--port", "0", "--log-file", link, "--", "sh", "-c", "touch \"$0\"", marker}, env_);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find(link + " is a symbolic link"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(marker)) << "the command ran";
  EXPECT_EQ(read_file(victim), "keep\n");
}

TEST_F(RunCommand, MissingCommandIsAUsageError) {
  auto r = run_cli({"run", "--port", "0"}, env_);
  EXPECT_EQ(r.code, 2) << r.err;
}

}  // namespace
