// sys/peer: which local process is at the other end of a connection (issue 18's audit trail). The
// parsers are fed hostile /proc text; the lookups run on real loopback and Unix connections made
// in this process or in a forked child, never on the internet.

#include "sys/peer.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <string>
#include <utility>

namespace vp::sys {
namespace {

using namespace std::string_literals;

// Each table on its own, so that the fallback cannot hide a sock_diag that never answers.
constexpr SocketTable all_tables[] = {SocketTable::sock_diag_or_proc_net, SocketTable::sock_diag,
                                      SocketTable::proc_net};

const char* name(SocketTable t) {
  return t == SocketTable::sock_diag ? "sock_diag" : t == SocketTable::proc_net ? "proc_net" : "either";
}

TcpEndpoint ep(const char* address, std::uint16_t port) {
  auto e = tcp_endpoint(address, port);
  EXPECT_TRUE(e) << address;
  return e.value_or(TcpEndpoint{});
}

// ---- pure parsers ----

TEST(CommandWords, KeepsTheProgramAndHarmlessWordsOnly) {
  struct Row {
    std::string cmdline;
    std::string words;
  };
  const Row rows[] = {
      {"node\0/srv/mcp/index.js\0serve\0extra\0"s, "node /srv/mcp/index.js serve"},
      {"curl\0--token=s3cret\0https://x\0"s, "curl"},
      {"python3\0run.py\0--password\0hunter2\0"s, "python3 run.py"},
      {"tool\0TOKEN=abc\0"s, "tool"},
      {"git\0clone\0https://user:pw@host/r\0"s, "git clone"},
      {"psql\0postgres://u:p@db\0"s, "psql"},
      {"/usr/bin/env\0"s, "/usr/bin/env"},
      {"a\0\0--token=x\0"s, "a"},                      // an empty argument does not reopen the door
      {"\0--token=x\0"s, ""},                          // an empty argv[0] is not replaced by argv[1]
      {"nginx: worker process"s, "nginx: worker process"},
      {"app --token=abc more"s, "app"},                 // setproctitle() joins with spaces
      {"app run http://u:p@h"s, "app run"},
      {"prog\ttab\0x\n\0"s, "prog?tab x?"},            // control bytes are not written to logs
      {"caf\xc3\xa9\0"s, "caf??"},
      {"argv0-with=and:is-kept\0"s, "argv0-with=and:is-kept"},
      {""s, ""},
  };
  for (const auto& row : rows) EXPECT_EQ(command_words(row.cmdline), row.words) << row.words;
}

TEST(CommandWords, StaysWithin160Bytes) {
  std::string long_word(300, 'x');
  EXPECT_EQ(command_words(long_word), std::string(160, 'x'));
  std::string second(100, 'y');
  // A later word that does not fit is left out whole, not cut.
  EXPECT_EQ(command_words(std::string(100, 'x') + '\0' + second), std::string(100, 'x'));
  EXPECT_EQ(command_words(std::string(100, 'x') + '\0' + std::string(59, 'y')).size(), 160u);
}

TEST(ProcStat, FindsPpidAfterTheLastParenthesis) {
  struct Row {
    std::string text;
    std::string comm;
    pid_t ppid;
  };
  const Row rows[] = {
      {"1234 (bash) S 1200 1234 1234 34816 5 4194304", "bash", 1200},
      {"77 (a b) c) R 5 77 77", "a b) c", 5},
      {"78 ((x)) S 0 0", "(x)", 0},
      {"79 () Z 9 79", "", 9},
      {"80 (evil) S 666 (x) S 1) S 42 80", "evil) S 666 (x) S 1", 42},
  };
  for (const auto& row : rows) {
    auto s = parse_proc_stat(row.text);
    ASSERT_TRUE(s) << row.text;
    EXPECT_EQ(s->comm, row.comm);
    EXPECT_EQ(s->ppid, row.ppid) << row.text;
  }
  for (const char* bad : {"", "1234 bash S 1", "1234 (bash S 1", "1 (x) S", "1 (x) S -4", "1 (x) S 12a", "1 (x) SS 2"})
    EXPECT_FALSE(parse_proc_stat(bad)) << bad;
}

TEST(ProcNetTcp, ParsesIpv4AndIpv6Lines) {
  if constexpr (std::endian::native != std::endian::little) GTEST_SKIP() << "the samples are a little-endian kernel's";
  struct Row {
    const char* line;
    TcpEndpoint local, remote;
    unsigned state;
    uid_t uid;
    std::uint64_t inode;
  };
  const Row rows[] = {
      {"   3: 0100007F:07E3 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 45213 1 "
       "0000000000000000 20 4 30 10 -1",
       ep("127.0.0.1", 2019), ep("127.0.0.1", 40000), 1, 1000, 45213},
      {"   0: 00000000000000000000000001000000:07E3 000080FE00000000FF020002030405FE:C350 0A 00000000:00000000 "
       "00:00000000 00000000     0        0 99 1 0000000000000000 100 0 0 10 0",
       ep("::1", 2019), ep("fe80::200:2ff:fe05:403", 50000), 0x0A, 0, 99},
      // A dual-stack socket's IPv4 peer, in tcp6: equal to the same address read from tcp.
      {"  1: 0000000000000000FFFF00000100007F:9C40 0000000000000000FFFF00000100007F:07E3 06 00000000:00000000 "
       "03:00000F9A 00000000     0        0 0 3 0000000000000000",
       ep("127.0.0.1", 40000), ep("127.0.0.1", 2019), 6, 0, 0},
      {"12: 0A00020F:D431 08080808:0035 01 00000000:00000000 00:00000000 00000000 4294967294 0 18446744073709551615",
       ep("15.2.0.10", 54321), ep("8.8.8.8", 53), 1, 4294967294u, 18446744073709551615u},
  };
  for (const auto& row : rows) {
    auto e = parse_proc_net_tcp_line(row.line);
    ASSERT_TRUE(e) << row.line;
    EXPECT_EQ(to_string(e->local), to_string(row.local));
    EXPECT_EQ(to_string(e->remote), to_string(row.remote));
    EXPECT_EQ(e->state, row.state);
    EXPECT_EQ(e->uid, row.uid);
    EXPECT_EQ(e->inode, row.inode);
  }
  EXPECT_EQ(to_string(ep("127.0.0.1", 40000)), "127.0.0.1:40000");
  EXPECT_EQ(to_string(ep("::1", 2019)), "[::1]:2019");
  EXPECT_EQ(tcp_endpoint("::ffff:127.0.0.1", 1), tcp_endpoint("127.0.0.1", 1));
  EXPECT_FALSE(tcp_endpoint("localhost", 1));
}

TEST(ProcNetTcp, RejectsHeaderAndMalformedLines) {
  const char* bad[] = {
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "",
      "   3: 0100007F:07E3 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0",
      "   3: 0100007:07E3 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 1",
      "   3: 0100007F07E3 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 1",
      "   3: 0100007F:7E3 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 1",
      "   3: 0100007G:07E3 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 1",
      "   3: 0100007F:07E3 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  -1        0 1",
      "   3  0100007F:07E3 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 1",
  };
  for (const char* line : bad) EXPECT_FALSE(parse_proc_net_tcp_line(line)) << line;
}

// ---- lookups on real connections ----

/// A connected loopback TCP pair: `client` is connect()ed, `accepted` is the server's end.
struct TcpPair {
  int listener = -1, client = -1, accepted = -1;
  ~TcpPair() {
    for (int fd : {listener, client, accepted})
      if (fd >= 0) ::close(fd);
  }
};

/// `address` of `family` with `port` (network order), and its length.
std::pair<sockaddr_storage, socklen_t> socket_address(int family, const char* address, in_port_t port) {
  sockaddr_storage ss{};
  if (family == AF_INET) {
    auto& in = reinterpret_cast<sockaddr_in&>(ss);
    in.sin_family = AF_INET;
    in.sin_port = port;
    ::inet_pton(AF_INET, address, &in.sin_addr);
    return {ss, sizeof in};
  }
  auto& in6 = reinterpret_cast<sockaddr_in6&>(ss);
  in6.sin6_family = AF_INET6;
  in6.sin6_port = port;
  ::inet_pton(AF_INET6, address, &in6.sin6_addr);
  return {ss, sizeof in6};
}

/// Listens on `address` port 0; false when that family or address is unavailable here.
bool listen_on(TcpPair& p, int family, const char* address, bool v6_only = true) {
  auto [ss, len] = socket_address(family, address, 0);
  p.listener = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int only = v6_only ? 1 : 0;
  if (family == AF_INET6) ::setsockopt(p.listener, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only);
  return p.listener >= 0 && ::bind(p.listener, reinterpret_cast<sockaddr*>(&ss), len) == 0 &&
         ::listen(p.listener, 8) == 0;
}

/// A socket connected to the listener's port at `address` of `family`; -1 when it fails.
int connect_to(const TcpPair& p, int family, const char* address) {
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  ::getsockname(p.listener, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  const auto port = reinterpret_cast<sockaddr_in&>(bound).sin_port;  // same offset in sockaddr_in6
  auto [to, len] = socket_address(family, address, port);
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&to), len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Connects from this process to the listener and accepts; false (with a failure) when it cannot.
bool connect_and_accept(TcpPair& p, int family, const char* address) {
  p.client = connect_to(p, family, address);
  EXPECT_GE(p.client, 0) << address;
  p.accepted = p.client < 0 ? -1 : ::accept4(p.listener, nullptr, nullptr, SOCK_CLOEXEC);
  EXPECT_GE(p.accepted, 0) << address;
  return p.accepted >= 0;
}

void expect_this_process(const Peer& peer) {
  EXPECT_EQ(peer.pid, ::getpid()) << peer.problem;
  EXPECT_EQ(peer.uid, ::geteuid());
  EXPECT_EQ(peer.problem, "");
  EXPECT_FALSE(peer.command.empty());
  EXPECT_LE(peer.ancestors.size(), 8u);
  if (::getppid() != 1) {
    ASSERT_FALSE(peer.ancestors.empty());
    EXPECT_EQ(peer.ancestors[0], ::getppid());
  }
  for (pid_t a : peer.ancestors) EXPECT_GT(a, 1);
}

void expect_this_process_in_every_table(int accepted) {
  for (auto table : all_tables) {
    SCOPED_TRACE(name(table));
    expect_this_process(tcp_peer(accepted, table));
  }
}

TEST(TcpPeer, FindsThisProcessOverIpv4Loopback) {
  TcpPair p;
  ASSERT_TRUE(listen_on(p, AF_INET, "127.0.0.1"));
  ASSERT_TRUE(connect_and_accept(p, AF_INET, "127.0.0.1"));
  expect_this_process_in_every_table(p.accepted);
}

TEST(TcpPeer, FindsThisProcessOverIpv6Loopback) {
  TcpPair p;
  if (!listen_on(p, AF_INET6, "::1")) GTEST_SKIP() << "no IPv6 loopback here";
  ASSERT_TRUE(connect_and_accept(p, AF_INET6, "::1"));
  expect_this_process_in_every_table(p.accepted);
}

TEST(TcpPeer, FindsAnIpv4ClientOfADualStackListener) {
  TcpPair p;
  if (!listen_on(p, AF_INET6, "::", false)) GTEST_SKIP() << "no IPv6 here";
  ASSERT_TRUE(connect_and_accept(p, AF_INET, "127.0.0.1"));
  expect_this_process_in_every_table(p.accepted);
}

/// What a child reports through a pipe.
std::string summary(const Peer& peer) {
  return "pid=" + (peer.pid ? std::to_string(*peer.pid) : "none"s) +
         " uid=" + (peer.uid ? std::to_string(*peer.uid) : "none"s) + " problem=" + peer.problem;
}

/// A forked child that makes the client end of a connection and holds it until destroyed.
struct Child {
  pid_t pid = -1;
  int go = -1;  ///< a byte written to it lets the child exit

  /// Forks; the child runs `connect_end(read end of go)` (true when it connected), then waits for
  /// the byte.
  template <typename Connect>
  explicit Child(Connect connect_end) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return;
    pid = ::fork();
    if (pid == 0) {
      ::close(pipe_fds[1]);
      const bool connected = connect_end(pipe_fds[0]);
      char c;
      while (::read(pipe_fds[0], &c, 1) < 0 && errno == EINTR) {
      }
      ::_exit(connected ? 0 : 1);
    }
    ::close(pipe_fds[0]);
    go = pipe_fds[1];
  }
  Child(const Child&) = delete;
  ~Child() {
    EXPECT_EQ(::write(go, "x", 1), 1);
    ::close(go);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child could not connect";
  }
};

void expect_child(const Peer& peer, pid_t child) {
  EXPECT_EQ(peer.pid, child) << peer.problem;
  EXPECT_EQ(peer.uid, ::geteuid());
  ASSERT_FALSE(peer.ancestors.empty());
  EXPECT_EQ(peer.ancestors[0], ::getpid());
  if (::getppid() != 1 && peer.ancestors.size() > 1) {
    EXPECT_EQ(peer.ancestors[1], ::getppid());
  }
}

TEST(TcpPeer, FindsAChildProcessAndItsParent) {
  TcpPair p;
  ASSERT_TRUE(listen_on(p, AF_INET, "127.0.0.1"));
  Child child([&](int) { return connect_to(p, AF_INET, "127.0.0.1") >= 0; });
  ASSERT_GT(child.pid, 0);
  p.accepted = ::accept4(p.listener, nullptr, nullptr, SOCK_CLOEXEC);
  for (auto table : all_tables) {
    SCOPED_TRACE(name(table));
    expect_child(tcp_peer(p.accepted, table), child.pid);
  }
}

TEST(TcpPeer, ReadsTheCommandOfAnotherProgramWithoutItsSecretArguments) {
  TcpPair p;
  ASSERT_TRUE(listen_on(p, AF_INET, "127.0.0.1"));
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  // The child connects, then becomes /bin/sh (keeping the socket) with a secret in its argv; the
  // shell's first output says that the exec is done and the command line is the new one.
  Child child([&](int go) {
    int fd = connect_to(p, AF_INET, "127.0.0.1");
    if (fd >= 0 && ::fcntl(fd, F_SETFD, 0) == 0 && ::dup2(go, 0) == 0 && ::dup2(ready[1], 1) == 1) {
      const char* argv[] = {"vp-peer-client", "-c", "echo; read line; exit 0", "--token=s3cret", nullptr};
      ::execv("/bin/sh", const_cast<char* const*>(argv));
    }
    ::close(1);
    ::close(ready[1]);
    return false;
  });
  ASSERT_GT(child.pid, 0);
  ::close(ready[1]);
  p.accepted = ::accept4(p.listener, nullptr, nullptr, SOCK_CLOEXEC);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1) << "the child did not start /bin/sh";
  ::close(ready[0]);
  auto peer = tcp_peer(p.accepted);
  EXPECT_EQ(peer.pid, child.pid) << peer.problem;
  EXPECT_EQ(peer.command, "vp-peer-client");
  EXPECT_EQ(peer.ancestors.at(0), ::getpid());
}

TEST(TcpPeer, GivesTheUidButNoPidWhenTheClientsProcessMayNotBeInspected) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, to become another user in a child";
  TcpPair p;
  ASSERT_TRUE(listen_on(p, AF_INET, "127.0.0.1"));
  ASSERT_TRUE(connect_and_accept(p, AF_INET, "127.0.0.1"));
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child is the proxy as nobody; root (this test process) holds the client's socket.
    ::close(p.client);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    auto peer = tcp_peer(p.accepted);
    std::string report = summary(peer);
    ::_exit(::write(out[1], report.data(), report.size()) == static_cast<ssize_t>(report.size()) ? 0 : 3);
  }
  ::close(out[1]);
  std::string report(512, '\0');
  ssize_t n = ::read(out[0], report.data(), report.size());
  ::close(out[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  report.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  EXPECT_EQ(report, "pid=none uid=0 problem=the client runs as uid 0, whose processes uid 65534 may not inspect");
}

TEST(TcpPeer, ReportsAClientThatHasClosedItsSocket) {
  TcpPair p;
  ASSERT_TRUE(listen_on(p, AF_INET, "127.0.0.1"));
  ASSERT_TRUE(connect_and_accept(p, AF_INET, "127.0.0.1"));
  ::close(std::exchange(p.client, -1));
  for (auto table : all_tables) {
    SCOPED_TRACE(name(table));
    auto peer = tcp_peer(p.accepted, table);
    EXPECT_FALSE(peer.pid);
    EXPECT_FALSE(peer.uid);
    EXPECT_EQ(peer.problem, "the client has closed its socket");
  }
}

TEST(TcpPeer, RefusesWhatIsNotAConnectedTcpSocket) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  int closed = ::dup(pipe_fds[0]);
  ::close(closed);
  TcpPair unconnected;
  ASSERT_TRUE(listen_on(unconnected, AF_INET, "127.0.0.1"));
  for (int fd : {-1, closed, pipe_fds[0], pair[0], unconnected.listener}) {
    auto peer = tcp_peer(fd);
    EXPECT_FALSE(peer.pid) << fd;
    EXPECT_FALSE(peer.uid) << fd;
    EXPECT_NE(peer.problem, "") << fd;
  }
  for (int fd : {pipe_fds[0], pipe_fds[1], pair[0], pair[1]}) ::close(fd);
}

TEST(UnixPeer, FindsThisProcessOverASocketpair) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  expect_this_process(unix_peer(pair[0]));
  ::close(pair[0]);
  ::close(pair[1]);
}

TEST(UnixPeer, FindsAChildConnectedToAListener) {
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // Abstract name: nothing on disk to clean up or to collide with.
  auto abstract = "vp-peer-test-" + std::to_string(::getpid());
  std::memcpy(addr.sun_path + 1, abstract.data(), abstract.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract.size());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  Child child([&](int) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    return ::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0;
  });
  ASSERT_GT(child.pid, 0);
  int accepted = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  expect_child(unix_peer(accepted), child.pid);
  ::close(accepted);
  ::close(listener);
}

TEST(UnixPeer, RefusesWhatIsNotAConnectedUnixSocket) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  int closed = ::dup(pipe_fds[0]);
  ::close(closed);
  int unconnected = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  TcpPair tcp;
  ASSERT_TRUE(listen_on(tcp, AF_INET, "127.0.0.1"));
  tcp.client = connect_to(tcp, AF_INET, "127.0.0.1");
  for (int fd : {-1, closed, pipe_fds[0], unconnected, tcp.client}) {
    auto peer = unix_peer(fd);
    EXPECT_FALSE(peer.pid) << fd;
    EXPECT_NE(peer.problem, "") << fd;
  }
  for (int fd : {pipe_fds[0], pipe_fds[1], unconnected}) ::close(fd);
}

}  // namespace
}  // namespace vp::sys
