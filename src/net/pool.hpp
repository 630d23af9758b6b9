#pragma once
// BasicPool: a per-worker LIFO pool of idle keep-alive connections, generic over the connection
// type so that its rules (expiry, size limit, refusal of a connection with unread bytes, LIFO
// order) are tested without sockets (tests/unit/net/pool_test.cpp). A pool belongs to one io_context
// thread and is not thread-safe by design; there is no lock on the request path.
//
// The Policy supplies what needs the real connection:
//   static bool peer_closed(Conn&);          // the peer closed, or sent bytes, while it idled
//   static bool has_unread(Conn&);           // bytes wait in a buffer a read would return
//   static void set_lean(Conn&, bool lean);  // give record buffers back after every record
//   static void release_buffers(Conn&);      // free buffers of a connection that sank in the pool
// Conn has a member `clock::time_point idle_since`.

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace vp::net_upstream {

using clock = std::chrono::steady_clock;

/// Counters of one pool.
struct PoolStats {
  std::uint64_t connects = 0;       ///< new connections (TLS handshakes started)
  std::uint64_t reuses = 0;         ///< requests served on a pooled connection
  std::uint64_t stale_dropped = 0;  ///< idle connections found closed, expired, or sent bytes
  std::uint64_t unread_dropped = 0; ///< connections not pooled: bytes waited after the response
};

/// How many connections a pool keeps and for how long.
struct PoolLimits {
  std::size_t max_idle = 0;
  clock::duration idle_timeout{};
};

/// Idle connections, the warmest first.
template <class Conn, class Policy>
class BasicPool {
 public:
  /// The last connections given back stay warm; older ones release their buffers.
  static constexpr std::size_t hot_connections = 16;
  // Connections lent out at once above which a lent connection gives its record buffers back after
  // every record (SSL_MODE_RELEASE_BUFFERS): below it they stay allocated, which saves two 17 KiB
  // malloc/free pairs per request; above it memory stays bounded at high concurrency.
  static constexpr std::size_t lean_above = 64;

  explicit BasicPool(PoolLimits limits) : limits_(limits) { idle_.reserve(limits.max_idle); }

  /// An idle connection that is not expired and on which nothing arrived while it idled, or null.
  std::unique_ptr<Conn> take_idle(clock::time_point now = clock::now()) {
    while (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      if (now - c->idle_since >= limits_.idle_timeout || Policy::peer_closed(*c)) {
        ++stats_.stale_dropped;
        continue;
      }
      ++stats_.reuses;
      lend(*c);
      return c;
    }
    return nullptr;
  }

  /// Keeps a connection that finished a response cleanly, unless bytes wait to be read on it;
  /// drops it when the pool is full.
  void give_back(std::unique_ptr<Conn> c, clock::time_point now = clock::now()) {
    if (Policy::has_unread(*c)) {
      ++stats_.unread_dropped;
      return;
    }
    if (idle_.size() >= limits_.max_idle) return;
    c->idle_since = now;
    idle_.push_back(std::move(c));
    // LIFO: the last connections given back are the next ones taken. One that sinks below them is
    // likely to wait, and gives back its buffers until then.
    if (idle_.size() > hot_connections) Policy::release_buffers(*idle_[idle_.size() - 1 - hot_connections]);
  }

  /// Drops every idle connection.
  void clear() { idle_.clear(); }

  const PoolStats& stats() const noexcept { return stats_; }
  std::size_t idle_count() const noexcept { return idle_.size(); }
  /// The count of open connections, which each connection keeps up to date: shared, since a
  /// session frame destroyed with the io_context at shutdown may drop its connection after the pool.
  const std::shared_ptr<std::size_t>& live() const noexcept { return live_; }

 protected:
  /// Chooses how a connection about to carry a request holds its buffers.
  void lend(Conn& c) const { Policy::set_lean(c, *live_ > idle_.size() + lean_above); }

  PoolStats stats_;

 private:
  PoolLimits limits_;
  std::shared_ptr<std::size_t> live_ = std::make_shared<std::size_t>(0);
  std::vector<std::unique_ptr<Conn>> idle_;
};

}  // namespace vp::net_upstream
