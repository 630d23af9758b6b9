// Issue 11, item 1: the read side of the runtime state against a second local user. Without
// XDG_RUNTIME_DIR the state directory is /tmp/vault-proxy-<uid>, which anyone can create first.
// The victim and the attacker are two uids made up by each test and run through setpriv, with
// VAULT_PROXY_STATE_DIR and XDG_RUNTIME_DIR unset, so the /tmp default applies. The attacker's
// "port" is a listener of the test: after each command it must hold no connection.

#include "cli/runtime_state.hpp"
#include "support/other_user.hpp"
#include "support/proxy_fixture.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

/// A TCP listener on 127.0.0.1 standing in for a port the attacker listens on.
class AttackerPort {
 public:
  AttackerPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot listen on 127.0.0.1:0");
    port_ = ntohs(a.sin_port);
  }
  ~AttackerPort() { ::close(fd_); }
  AttackerPort(const AttackerPort&) = delete;
  AttackerPort& operator=(const AttackerPort&) = delete;
  std::uint16_t port() const { return port_; }
  /// What a client sent, if any connected (the commands are synchronous, so by the time one
  /// returns, a connection it made is waiting here).
  std::optional<std::string> received() const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) != 1) return std::nullopt;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    std::string bytes(4096, '\0');
    pollfd q{c, POLLIN, 0};
    ssize_t n = ::poll(&q, 1, 1000) == 1 ? ::read(c, bytes.data(), bytes.size()) : 0;
    ::close(c);
    bytes.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return bytes;
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// A directory owned by `uid` with mode 0700 (a home for the victim, a state directory).
struct OwnedDir {
  TempDir dir;
  OwnedDir(uid_t uid, std::string_view prefix) : dir(prefix) {
    EXPECT_EQ(::chown(dir.path().c_str(), uid, uid), 0);
    ::chmod(dir.path().c_str(), 0700);
  }
  const std::string& path() const { return dir.path(); }
  std::string file(std::string_view name) const { return dir.file(name); }
};

/// Writes `content` to `path` as root, then gives it to `uid` with `mode`.
void write_owned(const std::string& path, const std::string& content, uid_t uid, mode_t mode = 0600) {
  write_file(path, content, mode);
  EXPECT_EQ(::chown(path.c_str(), uid, uid), 0) << path;
}

class CliLifecycleOtherUser : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = other_uids_unavailable(); !why.empty()) GTEST_SKIP() << why;
  }

  /// Uses `victim` and victim + 1 (the attacker); each test passes its own number.
  void use_uids(uid_t victim) {
    victim_ = victim;
    attacker_ = victim + 1;
    dirs_ = std::make_unique<DefaultStateDirs>(std::vector<uid_t>{victim_, attacker_});
  }

  /// `vault-proxy serve` as `uid`, recording itself in `state_dir` (never the /tmp default).
  std::unique_ptr<ProxyProcess> serve_as(uid_t uid, const std::string& state_dir) {
    auto o = vault_proxy_as(uid, {"serve", "--port", "0"},
                            {{"VAULT_PROXY_UPSTREAM", "https://vault.test"},
                             {"VAULT_PROXY_CONNECT_TO", "127.0.0.1:" + std::to_string(dead_.port())},
                             {"VAULT_PROXY_STATE_DIR", state_dir}});
    o.wait_ready = true;
    return std::make_unique<ProxyProcess>(o);
  }

  /// What the state file of `proxy` would say, as a starting point for a forged one.
  static vp::cli::RuntimeState recorded(const ProxyProcess& proxy) {
    vp::cli::RuntimeState s;
    s.pid = proxy.pid();
    s.port = proxy.port();
    s.listen = "127.0.0.1";
    s.upstream = "https://vault.test";
    s.started_at = "2026-01-01T00:00:00Z";
    s.version = "0.1.0";
    s.proc_start_ticks = vp::cli::read_proc(proxy.pid())->start_ticks;
    return s;
  }

  /// The attacker creates the victim's default state directory first (mode 0777, as if to
  /// share it) and plants `state` in it.
  void plant_state_dir(const vp::cli::RuntimeState& state) {
    const std::string dir = default_state_dir(victim_);
    auto r = run_to_end(command_as(attacker_, {"sh", "-c", "mkdir -m 0777 \"$0\" && printf '%s' \"$1\" > \"$2\"", dir,
                                               vp::cli::to_json(state).dump(), vp::cli::state_file_path(dir, state.port)}));
    ASSERT_EQ(r.code, 0) << r.err;
    struct stat st {};
    ASSERT_EQ(::lstat(dir.c_str(), &st), 0);
    ASSERT_EQ(st.st_uid, attacker_);
  }

  /// The victim's own default state directory (0700), holding `state` as a file of the victim:
  /// for the checks that apply even inside a directory that passes its own.
  void victim_state_file(const vp::cli::RuntimeState& state) {
    const std::string dir = default_state_dir(victim_);
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0) << dir;
    ASSERT_EQ(::chown(dir.c_str(), victim_, victim_), 0);
    write_owned(vp::cli::state_file_path(dir, state.port), vp::cli::to_json(state).dump(), victim_);
  }

  Finished victim_runs(std::vector<std::string> args) { return run_to_end(vault_proxy_as(victim_, std::move(args))); }

  uid_t victim_ = 0;
  uid_t attacker_ = 0;
  std::unique_ptr<DefaultStateDirs> dirs_;
  ReservedPort dead_;
};

// ---- a state directory the attacker created first ----------------------------------------------

/// The attacker's state file names the victim's real proxy, points `capability_file` at a private
/// file of the victim (an API token) and the port at the attacker's listener.
class CliLifecyclePlantedDir : public CliLifecycleOtherUser {
 protected:
  void plant(uid_t victim) {
    use_uids(victim);
    home_ = std::make_unique<OwnedDir>(victim_, "vp-victim-home-");
    write_owned(home_->file("api-token"), key_line + "\n", victim_);
    victim_proxy_ = serve_as(victim_, home_->path());
    auto forged = recorded(*victim_proxy_);
    forged.port = attacker_port_.port();
    forged.capability_file = home_->file("api-token");
    plant_state_dir(forged);
  }
  void expect_refusal(const Finished& r) {
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("refusing to read the state directory " + default_state_dir(victim_) + ": it belongs to uid " +
                         std::to_string(attacker_) + ", not to you (uid " + std::to_string(victim_) + ")"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("VAULT_PROXY_STATE_DIR"), std::string::npos) << "the refusal says what to do: " << r.err;
    EXPECT_EQ((r.out + r.err).find(key_line), std::string::npos);
    auto sent = attacker_port_.received();
    EXPECT_FALSE(sent) << "a request reached the attacker's port"
                       << (sent && sent->find(key_line) != std::string::npos ? ", carrying the victim's token" : "");
  }

  const std::string key_line = "sk-victim-api-token-6f1d2c8e0b7a4f3e9d5c";
  std::unique_ptr<OwnedDir> home_;
  std::unique_ptr<ProxyProcess> victim_proxy_;
  AttackerPort attacker_port_;
};

TEST_F(CliLifecyclePlantedDir, StatusRefusesItAndSendsNothing) {
  plant(42110);
  expect_refusal(victim_runs({"status"}));
  expect_refusal(victim_runs({"status", "--json", "--port", std::to_string(attacker_port_.port())}));
  EXPECT_TRUE(victim_proxy_->running());
}

TEST_F(CliLifecyclePlantedDir, StopRefusesItAndSignalsNothing) {
  plant(42120);
  expect_refusal(victim_runs({"stop", "--timeout", "1"}));
  EXPECT_TRUE(victim_proxy_->running()) << "stop signalled the process the attacker's file named";
  EXPECT_TRUE(fs::exists(default_state_dir(victim_))) << "reading repairs and removes nothing";
}

TEST_F(CliLifecyclePlantedDir, McpConfigRefusesItAndWritesNothing) {
  plant(42130);
  OwnedDir project(victim_, "vp-victim-project-");
  expect_refusal(victim_runs({"mcp-config", "--path", project.file(".mcp.json")}));
  EXPECT_FALSE(fs::exists(project.file(".mcp.json")));
}

// ---- checks that hold inside the victim's own directory ----------------------------------------

TEST_F(CliLifecycleOtherUser, AnotherUsersProcessIsNeverTheProxy) {
  use_uids(42140);
  OwnedDir attacker_state(attacker_, "vp-attacker-state-");
  auto other = serve_as(attacker_, attacker_state.path());  // a real vault-proxy, of another user
  victim_state_file(recorded(*other));
  const std::string pid = std::to_string(other->pid());

  auto status = victim_runs({"status"});
  EXPECT_EQ(status.code, 4) << status.out << status.err;
  EXPECT_EQ(status.out.find("is running"), std::string::npos) << status.out;
  EXPECT_NE(status.err.find("pid " + pid + " belongs to uid " + std::to_string(attacker_) + ", not to you (uid " +
                            std::to_string(victim_) + ")"),
            std::string::npos)
      << status.err;

  auto stop = victim_runs({"stop", "--timeout", "1"});
  EXPECT_EQ(stop.code, 1) << stop.out << stop.err;
  EXPECT_NE(stop.err.find("refusing to signal pid " + pid), std::string::npos) << stop.err;
  EXPECT_NE(stop.err.find("belongs to uid " + std::to_string(attacker_)), std::string::npos) << stop.err;
  EXPECT_TRUE(other->running());

  // root can signal anyone, so for root the owner check is all that stands between a file that
  // names another user's proxy and that proxy.
  TempDir root_state("vp-root-state-");
  vp::cli::write_state(root_state.path(), recorded(*other));
  auto as_root = run_to_end([&] {
    ProxyProcess::Options o;
    o.args = {"stop", "--timeout", "1"};
    o.env = {{"VAULT_PROXY_STATE_DIR", root_state.path()}};
    o.wait_ready = false;
    return o;
  }());
  EXPECT_EQ(as_root.code, 1) << as_root.out << as_root.err;
  EXPECT_NE(as_root.err.find("refusing to signal pid " + pid), std::string::npos) << as_root.err;
  EXPECT_TRUE(other->running()) << "root's stop killed another user's proxy";
}

TEST_F(CliLifecycleOtherUser, ACapabilityFileTheVictimDoesNotOwnIsRefusedAndNothingIsSent) {
  use_uids(42150);
  OwnedDir home(victim_, "vp-victim-home-");
  auto proxy = serve_as(victim_, home.path());
  AttackerPort attacker_port;
  // A file of the attacker (0644, so the victim can read it), a link to the victim's own key, and
  // a victim file that is readable by others: none of them was written by the proxy.
  OwnedDir attacker_home(attacker_, "vp-attacker-home-");
  ::chmod(attacker_home.path().c_str(), 0755);
  write_owned(attacker_home.file("cap"), "attacker-chosen-line\n", attacker_, 0644);
  write_owned(home.file("id_ed25519"), "victim-key-line\n", victim_);
  ASSERT_EQ(::symlink(home.file("id_ed25519").c_str(), home.file("cap-link").c_str()), 0);
  write_owned(home.file("cap-shared"), "victim-shared-line\n", victim_, 0644);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {attacker_home.file("cap"), "belongs to uid " + std::to_string(attacker_) + ", not to you"},
      {home.file("cap-link"), "is a symbolic link"},
      {home.file("cap-shared"), "is readable by its group or by others (mode 0644)"}};
  for (const auto& [file, why] : cases) {
    SCOPED_TRACE(file);
    fs::remove_all(default_state_dir(victim_));
    auto forged = recorded(*proxy);
    forged.port = attacker_port.port();
    forged.capability_file = file;
    victim_state_file(forged);
    auto r = victim_runs({"status", "--port", std::to_string(attacker_port.port())});
    EXPECT_NE(r.out.find("refusing to use the capability file named by the proxy's state file: " + file + " " + why),
              std::string::npos)
        << r.out << r.err;
    EXPECT_NE(r.out.find("nothing was sent"), std::string::npos) << r.out;
    EXPECT_FALSE(attacker_port.received()) << "status sent the file's first line to the recorded port";
  }
}

TEST_F(CliLifecycleOtherUser, AListenAddressThatIsNotLoopbackNeverReachesMcpJson) {
  use_uids(42160);
  OwnedDir home(victim_, "vp-victim-home-");
  auto proxy = serve_as(victim_, home.path());
  auto forged = recorded(*proxy);
  forged.listen = "203.0.113.7";
  victim_state_file(forged);
  const std::string state_file = vp::cli::state_file_path(default_state_dir(victim_), forged.port);

  OwnedDir project(victim_, "vp-victim-project-");
  auto r = victim_runs({"mcp-config", "--path", project.file(".mcp.json")});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("the state file records the listen address '203.0.113.7', which is not a loopback address"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(state_file), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--url"), std::string::npos) << "the refusal says what to do: " << r.err;
  EXPECT_FALSE(fs::exists(project.file(".mcp.json")));
  // status refuses to connect there through the same loopback_connect_address() (unit-tested in
  // Helpers.PortsDurationsUrls); it is not run here, so that a regression cannot send a packet off
  // this host.
}

}  // namespace
