#pragma once
// A worker: one thread, one io_context, one upstream pool, and the sessions it runs.

#include "net/upstream.hpp"
#include "proxy/state.hpp"

#include <functional>
#include <memory>
#include <vector>
#include <thread>
#include <unordered_set>

namespace vp::proxy {

/// What drain() needs to know about a live session.
struct SessionHandle {
  std::function<void()> close_idle;  ///< shuts the client socket down (used only while idle)
  bool idle = true;  ///< waiting for the next request (safe to close when draining)
};

/// Fixed-size body buffers, lent to sessions while a body moves and kept for reuse. A session
/// that relays no body (a small response arrives whole with its header) holds none, so idle and
/// small-request connections cost no buffer memory.
class BlockPool {
 public:
  static constexpr std::size_t block_size = 16 * 1024;
  static constexpr std::size_t keep = 64;  ///< blocks kept for reuse; more go back to the allocator

  std::unique_ptr<char[]> take() {
    if (free_.empty()) return std::make_unique_for_overwrite<char[]>(block_size);
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void give(std::unique_ptr<char[]> b) {
    if (b && free_.size() < keep) free_.push_back(std::move(b));
  }
  std::size_t kept() const noexcept { return free_.size(); }

 private:
  std::vector<std::unique_ptr<char[]>> free_;
};

/// A session's body buffer: a block taken from the worker's pool on first use, given back by
/// release() (or with the session).
class RelayBuffer {
 public:
  explicit RelayBuffer(BlockPool& pool) : pool_(pool) {}
  ~RelayBuffer() { release(); }
  RelayBuffer(const RelayBuffer&) = delete;
  RelayBuffer& operator=(const RelayBuffer&) = delete;

  char* data() {
    if (!block_) block_ = pool_.take();
    return block_.get();
  }
  static constexpr std::size_t size() noexcept { return BlockPool::block_size; }
  void release() { pool_.give(std::move(block_)); }

 private:
  BlockPool& pool_;
  std::unique_ptr<char[]> block_;
};

/// One worker thread's state. Everything here is touched only from that thread.
struct Worker {
  explicit Worker(Shared& s) : shared(s), pool(ioc.get_executor(), s.tls, s.cfg) {}
  // Pooled sockets go before the io_context they belong to; session frames still pending in the
  // io_context are destroyed with it and unregister from `sessions`, which must outlive it.
  ~Worker() { pool.clear(); }

  Shared& shared;
  std::unordered_set<SessionHandle*> sessions;
  BlockPool blocks;  // before ioc: session frames still pending in it give their blocks back
  net::io_context ioc{1};
  upstream::Pool pool;
  std::thread thread;

  /// Closes idle keep-alive connections; busy ones close after their current response.
  void drain();
};

/// Serves one client connection until it closes, errs, or the proxy drains.
net::awaitable<void> run_session(Worker& w, tcp::socket socket);
/// The same for a Unix-domain-socket client.
net::awaitable<void> run_session(Worker& w, net::local::stream_protocol::socket socket);

/// Probes the upstream's ready path through Access (uses the worker's pool).
net::awaitable<ProbeResult> probe_upstream(Worker& w);

}  // namespace vp::proxy
