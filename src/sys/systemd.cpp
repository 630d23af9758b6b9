#include "sys/systemd.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace vp::sys {

namespace {

/// A whole decimal number in an environment variable, or nullopt.
std::optional<unsigned long long> env_number(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  unsigned long long n = 0;
  auto [end, ec] = std::from_chars(v, v + std::strlen(v), n);
  if (ec != std::errc{} || *end != '\0') return std::nullopt;
  return n;
}

constexpr int listen_fds_start = 3;

}  // namespace

bool notify(std::string_view state, std::string* problem) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || *path == '\0') return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::size_t len = std::strlen(path);
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof addr.sun_path) {
    if (problem) *problem = "NOTIFY_SOCKET is neither an absolute path nor an abstract socket name";
    return false;
  }
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // the abstract namespace
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (problem) *problem = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&addr), addr_len);
  const int err = errno;
  ::close(fd);
  if (sent != static_cast<ssize_t>(state.size())) {
    if (problem) *problem = std::string("sending to NOTIFY_SOCKET: ") + std::strerror(err);
    return false;
  }
  return true;
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  auto usec = env_number("WATCHDOG_USEC");
  if (!usec || *usec == 0) return std::nullopt;
  if (auto pid = env_number("WATCHDOG_PID"); pid && *pid != static_cast<unsigned long long>(::getpid()))
    return std::nullopt;
  return std::chrono::microseconds(*usec);
}

std::vector<int> take_listen_fds() {
  auto pid = env_number("LISTEN_PID");
  auto count = env_number("LISTEN_FDS");
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  std::vector<int> fds;
  if (!pid || *pid != static_cast<unsigned long long>(::getpid()) || !count) return fds;
  for (unsigned long long i = 0; i < *count && i < 64; ++i) {
    const int fd = listen_fds_start + static_cast<int>(i);
    if (int flags = ::fcntl(fd, F_GETFD); flags >= 0) {
      ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
      fds.push_back(fd);
    }
  }
  return fds;
}

}  // namespace vp::sys
