// Cost of the audit trail's peer lookup (sys/peer.hpp, issue 18), once per client connection: the
// client is a forked child holding a loopback TCP connection or a Unix socketpair end, as a real
// client is another process. `procs` counts the processes in /proc and `procs_same_uid` those of
// this uid, whose fd tables the TCP lookup may have to scan before it reaches the child.
// Run: build/release/bench/micro/vp_peer_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only
#include "sys/peer.hpp"

#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

using vp::sys::SocketTable;

/// Processes in /proc, and how many of them belong to this effective uid.
std::pair<int, int> count_processes() {
  int all = 0, same_uid = 0;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return {0, 0};
  while (const dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    struct stat st {};
    if (::fstatat(::dirfd(proc), e->d_name, &st, 0) != 0) continue;
    ++all;
    same_uid += st.st_uid == ::geteuid() ? 1 : 0;
  }
  ::closedir(proc);
  return {all, same_uid};
}

/// A child process that holds the client end of a connection until destroyed.
struct ChildClient {
  pid_t pid = -1;
  int go = -1;      ///< a byte written to it lets the child exit
  int server = -1;  ///< our end: the accepted TCP socket, or our half of the socketpair

  ChildClient(const ChildClient&) = delete;
  ~ChildClient() {
    // A byte, not EOF: children forked later hold copies of this pipe's write end.
    if (::write(go, "x", 1) != 1) std::abort();
    ::close(go);
    ::close(server);
    int status = 0;
    if (pid > 0) ::waitpid(pid, &status, 0);
  }

  /// Forks a child that makes its end with `connect_end` and then waits for a byte on `go`.
  template <typename Connect>
  explicit ChildClient(Connect connect_end) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) std::abort();
    pid = ::fork();
    if (pid == 0) {
      ::close(pipe_fds[1]);
      connect_end();
      char c;
      while (::read(pipe_fds[0], &c, 1) < 0 && errno == EINTR) {
      }
      ::_exit(0);
    }
    ::close(pipe_fds[0]);
    go = pipe_fds[1];
  }
};

/// A loopback TCP connection from a child to a listener here; `server` is the accepted socket.
std::unique_ptr<ChildClient> tcp_client() {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    std::abort();
  auto client = std::make_unique<ChildClient>([&] {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ::_exit(1);
  });
  client->server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(listener);
  return client;
}

void report_processes(benchmark::State& state) {
  auto [all, same_uid] = count_processes();
  state.counters["procs"] = all;
  state.counters["procs_same_uid"] = same_uid;
}

// clients = 1: one client process makes every connection, so the lookup's hint (the previous
// holder) finds it at once. clients = 2: two clients take turns, the hint always misses and each
// lookup scans the fd tables of every process of the uid until it reaches the client.
void BM_TcpPeer(benchmark::State& state) {
  const auto table = static_cast<SocketTable>(state.range(0));
  std::vector<std::unique_ptr<ChildClient>> clients;
  for (int i = 0; i < state.range(1); ++i) clients.push_back(tcp_client());
  std::size_t turn = 0;
  for (auto _ : state) {
    const auto& client = *clients[turn++ % clients.size()];
    auto peer = vp::sys::tcp_peer(client.server, table);
    if (peer.pid != client.pid) state.SkipWithError(("wrong peer: " + peer.problem).c_str());
    benchmark::DoNotOptimize(peer);
  }
  report_processes(state);
}
// table: 1 = sock_diag, 2 = /proc/net/tcp (the fallback)
BENCHMARK(BM_TcpPeer)
    ->ArgNames({"table", "clients"})
    ->ArgsProduct({{static_cast<int>(SocketTable::sock_diag), static_cast<int>(SocketTable::proc_net)}, {1, 2}})
    ->Unit(benchmark::kMicrosecond);

void BM_UnixPeer(benchmark::State& state) {
  // SO_PEERCRED names the process that connected, so the child connects to a listener here.
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string name = "vp-peer-bench-" + std::to_string(::getpid());
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(listener, 1) != 0) std::abort();
  ChildClient client([&] {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) ::_exit(1);
  });
  client.server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(listener);
  for (auto _ : state) {
    auto peer = vp::sys::unix_peer(client.server);
    if (peer.pid != client.pid) state.SkipWithError(("wrong peer: " + peer.problem).c_str());
    benchmark::DoNotOptimize(peer);
  }
  report_processes(state);
}
BENCHMARK(BM_UnixPeer)->Unit(benchmark::kMicrosecond);

}  // namespace
