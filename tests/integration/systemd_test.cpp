// systemd's protocols (issue 16): READY=1 through a real NOTIFY_SOCKET only once the listener
// accepts and a service token is loaded, STOPPING=1 at the drain, WATCHDOG=1 at half the interval;
// socket activation through LISTEN_FDS with the same loopback rule as binding.

#include "support/proxy_fixture.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace {

using namespace vp::test;
using namespace std::chrono_literals;

/// A datagram socket the test owns, standing in for systemd's notification socket.
class NotifySocket {
 public:
  NotifySocket() : path_(dir_.file("notify")) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("cannot bind the notify socket");
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& path() const { return path_; }

  /// The next datagram, or nullopt after `timeout`.
  std::optional<std::string> next(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? std::nullopt : std::optional<std::string>(std::string(buf, static_cast<std::size_t>(n)));
  }
  /// Waits for a datagram containing `needle`; the datagram, or nullopt.
  std::optional<std::string> wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      auto d = next(std::max(left, 1ms));
      if (d && d->find(needle) != std::string::npos) return d;
    }
    return std::nullopt;
  }

 private:
  TempDir dir_{"vp-notify-"};
  std::string path_;
  int fd_ = -1;
};

class Systemd : public ProxyTest {
 protected:
  NotifySocket notify_;
};

TEST_F(Systemd, ReadyIsSentOnceTheListenerAcceptsThenStoppingAtTheDrain) {
  start(ProxySetup{}.with_env({{"NOTIFY_SOCKET", notify_.path()}}));
  auto ready = notify_.wait_for("READY=1", 5s);
  ASSERT_TRUE(ready);
  // The moment READY=1 is read, the proxy answers.
  EXPECT_EQ(http_get(port(), "/__vault-proxy/health").status, 200u);
  EXPECT_NE(ready->find("STATUS=serving http://127.0.0.1:" + std::to_string(port())), std::string::npos) << *ready;
  EXPECT_NE(ready->find("service token v1"), std::string::npos) << *ready;
  proxy().send_signal(SIGTERM);
  EXPECT_TRUE(notify_.wait_for("STOPPING=1", 5s));
  EXPECT_EQ(proxy().wait_exit(15s), 0);
  stopped_by_test_ = true;
}

TEST_F(Systemd, WithoutAServiceTokenReadyWaitsUntilItsFileAppears) {
  TempDir creds("vp-creds-");
  start(ProxySetup{}.without_credentials().with_env({{"NOTIFY_SOCKET", notify_.path()},
                                                     {"CF_ACCESS_CLIENT_ID_FILE", creds.file("id")},
                                                     {"CF_ACCESS_CLIENT_SECRET_FILE", creds.file("secret")}}));
  EXPECT_FALSE(notify_.wait_for("READY=1", 1500ms)) << "ready without a service token";
  write_file(creds.file("secret.tmp"), client_secret + "\n");
  write_file(creds.file("id.tmp"), client_id + "\n");
  std::filesystem::rename(creds.file("secret.tmp"), creds.file("secret"));
  std::filesystem::rename(creds.file("id.tmp"), creds.file("id"));
  auto ready = notify_.wait_for("READY=1", 5s);
  ASSERT_TRUE(ready) << redacted_stderr();
  EXPECT_EQ(http_get(port(), "/api/status").status, 200u);
}

TEST_F(Systemd, TheWatchdogIsFedAtHalfItsInterval) {
  start(ProxySetup{}.with_env({{"NOTIFY_SOCKET", notify_.path()}, {"WATCHDOG_USEC", "400000"}}));
  ASSERT_TRUE(notify_.wait_for("READY=1", 5s));
  const auto t0 = std::chrono::steady_clock::now();
  int fed = 0;
  while (std::chrono::steady_clock::now() - t0 < 1100ms)
    if (notify_.wait_for("WATCHDOG=1", 500ms)) ++fed;
  EXPECT_GE(fed, 3) << "WATCHDOG_USEC=400000: about every 200 ms";
  EXPECT_LE(fed, 8);
}

/// A listening TCP socket on `ip`:0, as systemd would pass it.
int listening_socket(const char* ip, std::uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, ip, &a.sin_addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0)
    throw std::runtime_error("cannot make the listening socket");
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

/// Starts `vault-proxy serve` through sh, which sets LISTEN_PID to its own pid before exec.
ProxyProcess::Options activated(int fd, std::map<std::string, std::string> env, bool wait_ready) {
  ProxyProcess::Options o;
  const char* override_binary = std::getenv("VP_TEST_BINARY");
  std::string binary = override_binary && *override_binary ? override_binary : VP_BINARY;
  o.binary = "/bin/sh";
  o.args = {"-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" serve", binary};
  o.env = std::move(env);
  o.pass_fd = fd;
  o.wait_ready = wait_ready;
  return o;
}

TEST_F(Systemd, SocketActivationServesOnThePassedSocket) {
  start();  // the upstream and the standard environment; this proxy is not the one under test
  std::uint16_t passed_port = 0;
  int fd = listening_socket("127.0.0.1", passed_port);
  auto env = proxy_env();
  env["VAULT_PROXY_PORT"] = "1";  // would fail to bind as a user: proves the passed socket is used
  env["NOTIFY_SOCKET"] = notify_.path();
  ProxyProcess p(activated(fd, env, true));
  ::close(fd);
  EXPECT_EQ(p.port(), passed_port);
  EXPECT_TRUE(p.wait_for_stderr("socket activation", 2s));
  EXPECT_TRUE(notify_.wait_for("READY=1", 5s));
  auto r = http_get(passed_port, "/api/status");
  EXPECT_EQ(r.status, 200u);
  p.send_signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(15s), 0);
}

TEST_F(Systemd, APassedSocketOnANonLoopbackAddressIsRefused) {
  start();
  std::uint16_t passed_port = 0;
  int fd = listening_socket("0.0.0.0", passed_port);
  ProxyProcess p(activated(fd, proxy_env(), false));
  ::close(fd);
  EXPECT_EQ(p.wait_exit(10s), 3);
  EXPECT_NE(p.stderr_text().find("not a loopback address"), std::string::npos) << p.stderr_text();
}

}  // namespace
