#pragma once
// Watches folders with inotify and calls back, debounced, after anything in them changes. The
// folder, not the file, is watched: that sees a file created after start, an atomic rename over a
// file, and the symlink swap of Kubernetes secrets (`..data` renamed) and systemd credentials.

#include "net/asio.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace vp::proxy {

class DirectoryWatch {
 public:
  /// Adds a watch for each folder; one that cannot be watched is listed in problems().
  DirectoryWatch(net::io_context& ioc, const std::vector<std::string>& dirs, std::function<void()> on_change,
                 std::chrono::milliseconds debounce = std::chrono::milliseconds(100));
  ~DirectoryWatch();
  DirectoryWatch(const DirectoryWatch&) = delete;
  DirectoryWatch& operator=(const DirectoryWatch&) = delete;

  /// Starts reading events on the io_context (no-op when nothing is watched).
  void start();
  /// Stops reading; pending callbacks are cancelled.
  void stop();
  /// One sentence per folder that could not be watched.
  const std::vector<std::string>& problems() const noexcept { return problems_; }
  /// The folders being watched.
  const std::vector<std::string>& watched() const noexcept { return watched_; }

 private:
  net::awaitable<void> read_loop();
  net::awaitable<void> debounce_loop();

  net::posix::stream_descriptor fd_;
  net::steady_timer timer_;
  std::function<void()> on_change_;
  std::chrono::milliseconds debounce_;
  bool pending_ = false;
  std::vector<std::string> watched_;
  std::vector<std::string> problems_;
};

}  // namespace vp::proxy
