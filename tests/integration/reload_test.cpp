// Rotating the service token without a restart (issue 14): files swapped by rename or by a
// Kubernetes-style symlink swap are picked up while requests keep flowing; SIGHUP reloads and never
// stops the proxy; a file absent at start is waited for; a bad new value leaves the old token in use.

#include "support/proxy_fixture.hpp"
#include "support/secrets.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using json = nlohmann::json;

/// One id/secret pair, fresh random values.
struct Pair {
  std::string id = random_token(8) + ".access";
  std::string secret = random_token(24);
};

/// Writes `content` to `path` the way a secret manager does: a new file renamed over the old one.
void replace_file(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  write_file(tmp, content, 0600);
  fs::rename(tmp, path);
}

class Reload : public ProxyTest {
 protected:
  TempDir creds_{"vp-creds-"};
  std::vector<Pair> pairs_;  ///< every pair the test wrote, to check none reached the output

  std::string id_file() const { return creds_.file("cf-access-client-id"); }
  std::string secret_file() const { return creds_.file("cf-access-client-secret"); }

  void write_pair(const Pair& p) {
    pairs_.push_back(p);
    replace_file(id_file(), p.id + "\n");
    replace_file(secret_file(), p.secret + "\n");
  }

  /// Starts the proxy with both halves in files (the readiness line comes with or without them).
  void start_with_files() {
    start(ProxySetup{}.without_credentials().with_env(
        {{"CF_ACCESS_CLIENT_ID_FILE", id_file()}, {"CF_ACCESS_CLIENT_SECRET_FILE", secret_file()}}));
  }

  /// Waits until the upstream has received `id` as the injected client id.
  bool upstream_sees(const std::string& id, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto res = http_get(port(), "/probe");
      auto reqs = upstream().requests();
      if (res.status == 200 && !reqs.empty() && reqs.back().header("CF-Access-Client-Id") == id) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  json status() { return json::parse(http_get(port(), "/__vault-proxy/status").body, nullptr, false); }

  void expect_no_pair_in_output() {
    const std::string out = proxy().stderr_text() + proxy().stdout_text();
    for (const auto& p : pairs_) {
      EXPECT_TRUE(no_secret_in(out, p.secret, "proxy output"));
      EXPECT_TRUE(no_secret_in(out, p.id, "proxy output"));
    }
  }
};

/// Requests on one keep-alive connection until stopped; counts the answers that were not 200.
struct LoadLoop {
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> ok{0}, failed{0};
  std::thread thread;
  explicit LoadLoop(std::uint16_t port) {
    thread = std::thread([this, port] {
      while (!stop) {
        try {
          HttpClient c(port, 5s);
          while (!stop) {
            ClientRequest req;
            req.target = "/load";
            (c.request(req).status == 200 ? ok : failed)++;
          }
        } catch (...) {
          failed++;
        }
      }
    });
  }
  ~LoadLoop() { finish(); }
  void finish() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
};

TEST_F(Reload, FilesReplacedByRenameAreUsedForTheNextRequestsAndNoRequestFails) {
  write_pair(Pair{});
  start_with_files();
  ASSERT_TRUE(upstream_sees(pairs_.back().id));
  LoadLoop load(port());
  for (int i = 0; i < 4; ++i) {
    write_pair(Pair{});
    ASSERT_TRUE(upstream_sees(pairs_.back().id)) << "rotation " << i << " not picked up\n" << redacted_stderr();
  }
  load.finish();
  EXPECT_EQ(load.failed.load(), 0u) << load.ok.load() << " requests answered 200";
  EXPECT_GT(load.ok.load(), 0u);
  auto j = status();
  ASSERT_TRUE(j.is_object());
  EXPECT_GE(j["credentials"]["version"].get<int>(), 5) << j.dump();
  EXPECT_GE(j["credentials"]["reloads"]["applied"].get<int>(), 4) << j.dump();
  EXPECT_EQ(j["credentials"]["reloads"]["refused"], 0) << j.dump();
  EXPECT_TRUE(proxy().wait_for_stderr("file change (installed): service token version", 1s)) << redacted_stderr();
  expect_no_pair_in_output();
}

TEST_F(Reload, AKubernetesStyleSymlinkSwapIsPickedUp) {
  // <dir>/cf-access-client-id -> ..data/cf-access-client-id, ..data -> ..v1: a swap renames a new
  // ..data link over the old one, both files changing at once.
  auto version_dir = [&](int v, const Pair& p) {
    const std::string d = creds_.file("..v" + std::to_string(v));
    fs::create_directories(d);
    write_file(d + "/cf-access-client-id", p.id, 0600);
    write_file(d + "/cf-access-client-secret", p.secret, 0600);
    pairs_.push_back(p);
    return "..v" + std::to_string(v);
  };
  ASSERT_EQ(::symlink(version_dir(1, Pair{}).c_str(), creds_.file("..data").c_str()), 0);
  ASSERT_EQ(::symlink("..data/cf-access-client-id", id_file().c_str()), 0);
  ASSERT_EQ(::symlink("..data/cf-access-client-secret", secret_file().c_str()), 0);
  start_with_files();
  ASSERT_TRUE(upstream_sees(pairs_.back().id));
  LoadLoop load(port());
  for (int v = 2; v <= 4; ++v) {
    const auto target = version_dir(v, Pair{});
    ASSERT_EQ(::symlink(target.c_str(), creds_.file("..data_tmp").c_str()), 0);
    fs::rename(creds_.file("..data_tmp"), creds_.file("..data"));
    ASSERT_TRUE(upstream_sees(pairs_.back().id)) << "swap to " << target << " not picked up\n" << redacted_stderr();
  }
  load.finish();
  EXPECT_EQ(load.failed.load(), 0u);
  expect_no_pair_in_output();
}

TEST_F(Reload, SighupReloadsAndNeverStopsTheProxy) {
  start();  // credentials from the environment: nothing that SIGHUP could change
  proxy().send_signal(SIGHUP);
  EXPECT_TRUE(proxy().wait_for_stderr("SIGHUP", 5s)) << redacted_stderr();
  EXPECT_TRUE(proxy().running()) << "SIGHUP stopped the proxy\n" << redacted_stderr();
  EXPECT_EQ(http_get(port(), "/after-hup").status, 200u);
  EXPECT_TRUE(proxy().wait_for_stderr("a value from the environment cannot change", 5s)) << redacted_stderr();
  // TearDown: SIGTERM still drains and exits 0.
}

TEST_F(Reload, SighupPicksUpAFileAndTheNewLogFormat) {
  write_pair(Pair{});
  TempDir conf("vp-conf-");
  const std::string toml = conf.file("vp.toml");
  write_file(toml, "log_format = \"text\"\n");
  auto setup = ProxySetup{}.without_credentials().with_env({{"CF_ACCESS_CLIENT_ID_FILE", id_file()},
                                                            {"CF_ACCESS_CLIENT_SECRET_FILE", secret_file()},
                                                            {"VAULT_PROXY_CONFIG", toml}});
  start(setup);
  write_file(toml, "log_format = \"json\"\n");
  proxy().send_signal(SIGHUP);
  ASSERT_TRUE(proxy().wait_for_stderr("\"msg\":\"SIGHUP: log format json", 5s)) << redacted_stderr();
  EXPECT_TRUE(proxy().running());
  expect_no_pair_in_output();
}

TEST_F(Reload, AFileAbsentAtStartIsWaitedForThenUsed) {
  start_with_files();
  ASSERT_TRUE(proxy().wait_for_stderr("do not exist yet", 10s)) << redacted_stderr();
  auto before = http_get(port(), "/too-early");
  EXPECT_EQ(before.status, 503u);
  EXPECT_EQ(before.header("X-Vault-Proxy-Error").value_or(""), "credentials_missing");
  EXPECT_EQ(http_get(port(), "/__vault-proxy/ready").status, 503u);
  EXPECT_EQ(upstream().request_count(), 0u);
  write_pair(Pair{});
  EXPECT_TRUE(upstream_sees(pairs_.back().id)) << redacted_stderr();
  expect_no_pair_in_output();
}

TEST_F(Reload, ABadNewValueIsRefusedAndTheOldTokenStays) {
  const Pair good;
  write_pair(good);
  start_with_files();
  ASSERT_TRUE(upstream_sees(good.id));
  const Pair bad;
  pairs_.push_back(bad);
  replace_file(id_file(), bad.id.substr(0, 6) + "\n" + bad.id.substr(6) + "\n");  // a line break inside
  ASSERT_TRUE(proxy().wait_for_stderr("the service token was not reloaded", 5s)) << redacted_stderr();
  EXPECT_TRUE(proxy().wait_for_stderr("contains a line break", 1s)) << redacted_stderr();
  EXPECT_TRUE(upstream_sees(good.id, 2s)) << "the old token must stay in use";
  replace_file(id_file(), "");  // empty: refused too
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (status()["credentials"]["reloads"]["refused"].get<int>() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  auto j = status();
  EXPECT_GE(j["credentials"]["reloads"]["refused"].get<int>(), 2) << j.dump();
  EXPECT_EQ(j["credentials"]["reloads"]["last"]["outcome"], "refused") << j.dump();
  EXPECT_EQ(j["credentials"]["version"], 1) << j.dump();
  EXPECT_TRUE(upstream_sees(good.id, 2s));
  expect_no_pair_in_output();
}

}  // namespace
