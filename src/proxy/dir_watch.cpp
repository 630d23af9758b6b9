#include "proxy/dir_watch.hpp"

#include "proxy/escaped.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace vp::proxy {

namespace {

// Every way a file can come, go or change content, including renames in and out of the folder.
constexpr std::uint32_t watch_mask = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE |
                                     IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

constexpr LogEscaped watch_stopped{"credential watch stopped", spdlog::level::warn};

}  // namespace

DirectoryWatch::DirectoryWatch(net::io_context& ioc, const std::vector<std::string>& dirs,
                               std::function<void()> on_change, std::chrono::milliseconds debounce)
    : fd_(ioc), timer_(ioc), on_change_(std::move(on_change)), debounce_(debounce) {
  if (dirs.empty()) return;
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    problems_.push_back(fmt::format("inotify is not available ({}); send SIGHUP to reload", std::strerror(errno)));
    return;
  }
  fd_.assign(fd);
  for (const auto& dir : dirs) {
    if (::inotify_add_watch(fd, dir.c_str(), watch_mask) < 0)
      problems_.push_back(fmt::format("cannot watch {} ({}); send SIGHUP to reload after a change", dir,
                                      std::strerror(errno)));
    else
      watched_.push_back(dir);
  }
}

DirectoryWatch::~DirectoryWatch() { stop(); }

void DirectoryWatch::start() {
  if (watched_.empty()) return;
  net::co_spawn(fd_.get_executor(), read_loop(), watch_stopped);
}

void DirectoryWatch::stop() {
  error_code ignored;
  timer_.cancel();
  if (fd_.is_open()) fd_.close(ignored);
}

net::awaitable<void> DirectoryWatch::read_loop() {
  // Events are only a hint that something changed: their content is not needed, and a burst (a
  // rename storm, an editor's save) becomes one reload after the debounce.
  alignas(inotify_event) std::array<char, 4096> buf;
  for (;;) {
    auto [ec, n] = co_await fd_.async_read_some(net::buffer(buf), net::as_tuple(net::use_awaitable));
    if (ec) co_return;  // closed at shutdown
    if (n == 0 || pending_) continue;
    pending_ = true;
    net::co_spawn(fd_.get_executor(), debounce_loop(), watch_stopped);
  }
}

net::awaitable<void> DirectoryWatch::debounce_loop() {
  timer_.expires_after(debounce_);
  auto [ec] = co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
  pending_ = false;
  if (!ec) on_change_();
}

}  // namespace vp::proxy
