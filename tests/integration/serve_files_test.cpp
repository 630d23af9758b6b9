// Issue 11, item 6: the files `serve` creates where another user may have been first: the
// capability file, the pid file and the Unix socket. Whatever was at the path before must never
// receive the token or the pid, a symlink is never followed, and the mode is the one asked for,
// whatever the umask.

#include "support/proxy_fixture.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr uid_t other_uid = 4242;

struct stat lstat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

/// Everything `fd` holds, read from offset 0.
std::string read_fd(int fd) {
  std::string out(4096, '\0');
  ssize_t n = ::pread(fd, out.data(), out.size(), 0);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

/// Sets the test process's umask (which the proxy inherits) for one scope.
struct Umask {
  mode_t old;
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
};

class ServeFiles : public ProxyTest {
 protected:
  TempDir state_{"vp-serve-files-state-"};
  TempDir shared_{"vp-shared-"};  ///< stands in for /tmp: mode 1777

  void SetUp() override { ::chmod(shared_.path().c_str(), 01777); }

  /// Starts serve with `env` added; returns its exit code when `expect_exit` (it refused to start).
  std::optional<int> serve(std::map<std::string, std::string> env, bool expect_exit = false) {
    env["VAULT_PROXY_STATE_DIR"] = state_.path();
    ProxySetup setup = ProxySetup{}.with_env(env);
    if (expect_exit) setup = setup.without_waiting_for_ready();
    start(setup);
    if (!expect_exit) return std::nullopt;
    auto code = proxy().wait_exit(10s);
    stopped_by_test_ = true;
    return code;
  }

  /// The token in the capability file at `path` (without its newline).
  static std::string token_in(const std::string& path) {
    std::string t = read_file(path);
    if (!t.empty() && t.back() == '\n') t.pop_back();
    return t;
  }
};

TEST_F(ServeFiles, AStaleCapabilityFileIsReplacedByANewInodeThatOnlyTheOwnerCanRead) {
  const std::string path = shared_.file("capability");
  write_file(path, "stale\n", 0644);
  // Someone opened the stale, readable file before the proxy started; that descriptor must never
  // see the token.
  int held = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(held, 0);
  const ino_t stale_inode = lstat_of(path).st_ino;

  serve({{"VAULT_PROXY_CAPABILITY", "true"}, {"VAULT_PROXY_CAPABILITY_FILE", path}});
  ASSERT_TRUE(proxy().wait_for_stderr("capability prefix required", 5s)) << redacted_stderr();
  const std::string token = token_in(path);
  EXPECT_EQ(token.size(), 48u);
  auto st = lstat_of(path);
  EXPECT_NE(st.st_ino, stale_inode) << "the token went into the stale file's inode";
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(read_fd(held), "stale\n") << "a descriptor opened before the start received the token";
  ::close(held);
}

TEST_F(ServeFiles, AnotherUsersCapabilityFileIsRefusedAndNeverReceivesTheToken) {
  if (::geteuid() != 0) GTEST_SKIP() << "planting a file of another uid needs root";
  const std::string path = shared_.file("capability");
  write_file(path, "", 0666);  // the attacker's, world-writable, in a /tmp-like directory
  ASSERT_EQ(::chown(path.c_str(), other_uid, other_uid), 0);
  int held = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // and the attacker keeps it open
  ASSERT_GE(held, 0);

  auto code = serve({{"VAULT_PROXY_CAPABILITY", "true"}, {"VAULT_PROXY_CAPABILITY_FILE", path}}, true);
  ASSERT_TRUE(code) << "the proxy started although the capability file is another user's";
  EXPECT_EQ(*code, 1);
  const std::string err = redacted_stderr();
  EXPECT_NE(err.find("cannot write the capability file: " + path + " belongs to uid 4242, not to you (uid 0)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("remove it, or choose another path"), std::string::npos) << err;
  EXPECT_EQ(read_fd(held), "") << "the token reached the attacker's file";
  ::close(held);
  EXPECT_EQ(lstat_of(path).st_uid, other_uid);
  EXPECT_EQ(err.find("listening on"), std::string::npos) << "refused before it was ready";
}

TEST_F(ServeFiles, ASymlinkedPidFileIsNotFollowed) {
  TempDir home("vp-home-");
  const std::string victim = home.file(".bashrc");
  write_file(victim, "export PATH=$HOME/bin:$PATH\n", 0644);
  const std::string pid_file = shared_.file("vault-proxy.pid");
  ASSERT_EQ(::symlink(victim.c_str(), pid_file.c_str()), 0);

  auto code = serve({{"VAULT_PROXY_PID_FILE", pid_file}}, true);
  ASSERT_TRUE(code) << "the proxy started with a symlink at its pid file path";
  EXPECT_EQ(*code, 1);
  EXPECT_EQ(read_file(victim), "export PATH=$HOME/bin:$PATH\n") << "the pid was written through the symlink";
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(pid_file)));
  EXPECT_NE(redacted_stderr().find("cannot write the pid file: " + pid_file + " is a symbolic link"),
            std::string::npos)
      << redacted_stderr();
}

TEST_F(ServeFiles, ThePidFileHasMode0644WhateverTheUmaskAndGoesAtExit) {
  const std::string pid_file = shared_.file("vault-proxy.pid");
  {
    Umask none(0);
    serve({{"VAULT_PROXY_PID_FILE", pid_file}});
  }
  EXPECT_EQ(read_file(pid_file), std::to_string(proxy().pid()) + "\n");
  auto st = lstat_of(pid_file);
  EXPECT_EQ(st.st_mode & 07777, 0644u) << "the pid file took its mode from the umask";
  EXPECT_TRUE(S_ISREG(st.st_mode));
  proxy().send_signal(SIGTERM);
  auto code = proxy().wait_exit(15s);
  stopped_by_test_ = true;
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_FALSE(fs::exists(fs::symlink_status(pid_file)));
}

#ifdef VP_CHMOD_SWAP_LIB
TEST_F(ServeFiles, TheUnixSocketModeIsNeverAppliedThroughASymlinkSwappedInAfterBind) {
  // A file of the user that must stay private; the shim replaces the socket path with a link to it
  // the moment the proxy chmods that path (the window between bind and chmod).
  TempDir home("vp-home-");
  const std::string victim = home.file("id_ed25519");
  write_file(victim, "private\n", 0600);
  const std::string socket_path = shared_.file("vp.sock");
  std::map<std::string, std::string> env{{"VAULT_PROXY_UNIX_SOCKET", socket_path},
                                         {"VAULT_PROXY_UNIX_SOCKET_MODE", "0666"},
                                         {"LD_PRELOAD", VP_CHMOD_SWAP_LIB},
                                         {"VP_SWAP_PATH", socket_path},
                                         {"VP_SWAP_TARGET", victim}};
  // The preloaded shim comes before ASan's runtime in the library list; ASan must accept that.
  const char* asan = std::getenv("ASAN_OPTIONS");
  env["ASAN_OPTIONS"] = std::string(asan && *asan ? std::string(asan) + ":" : "") + "verify_asan_link_order=0";
  {
    Umask usual(022);
    serve(env);
  }
  ASSERT_TRUE(proxy().wait_for_stderr("also listening on unix:", 5s)) << redacted_stderr();
  EXPECT_EQ(lstat_of(victim).st_mode & 07777, 0600u) << "the socket's mode was applied to the file a symlink pointed at";
  auto st = lstat_of(socket_path);
  EXPECT_TRUE(S_ISSOCK(st.st_mode)) << "the socket path is not the socket";
  EXPECT_EQ(st.st_mode & 07777, 0666u);
}
#endif

}  // namespace
