#pragma once
// The count of a test server's open connections: raised on the server's thread when a connection
// opens, lowered when its coroutine ends (also when it ends by an exception or the io_context is
// destroyed), and waited on from the test's thread.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace vp::test {

class OpenConnections {
 public:
  /// Lowers the count when the connection's coroutine frame goes.
  class Guard {
   public:
    explicit Guard(OpenConnections& c) : c_(c) {}
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() { c_.add(-1); }

   private:
    OpenConnections& c_;
  };

  /// Counts one more connection; pair it with a Guard in the connection's coroutine.
  void opened() { add(1); }

  std::size_t count() const {
    std::lock_guard lock(mu_);
    return n_;
  }

  /// Waits until at most `n` connections are open; false on timeout.
  bool wait_at_most(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return n_ <= n; });
  }

 private:
  void add(int d) {
    {
      std::lock_guard lock(mu_);
      n_ += static_cast<std::size_t>(d);
    }
    cv_.notify_all();
  }

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::size_t n_ = 0;
};

}  // namespace vp::test
