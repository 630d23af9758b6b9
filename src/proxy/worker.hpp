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

/// Body buffers, lent to sessions while a body moves and kept for reuse. A session that relays no
/// body (a small response arrives whole with its header) holds none, so idle and small-request
/// connections cost no buffer memory. While few bodies move at once a session gets a 64 KiB block,
/// which lets one client write carry several TLS records (a quarter of the system calls and
/// wake-ups of 16 KiB); above `large_below` blocks lent out at once, 16 KiB, so that memory at
/// high concurrency stays bounded.
class BlockPool {
 public:
  static constexpr std::size_t small_size = 16 * 1024;
  static constexpr std::size_t large_size = 64 * 1024;
  static constexpr std::size_t large_below = 64;  ///< blocks lent out at once
  static constexpr std::size_t keep = 64;         ///< blocks of each size kept for reuse

  struct Block {
    std::unique_ptr<char[]> data;
    std::size_t size = 0;
  };

  Block take() {
    const bool large = lent_ < large_below;
    ++lent_;
    auto& list = large ? large_free_ : small_free_;
    const std::size_t size = large ? large_size : small_size;
    if (list.empty()) return {std::make_unique_for_overwrite<char[]>(size), size};
    Block b{std::move(list.back()), size};
    list.pop_back();
    return b;
  }
  void give(Block b) {
    if (!b.data) return;
    --lent_;
    auto& list = b.size == large_size ? large_free_ : small_free_;
    if (list.size() < keep) list.push_back(std::move(b.data));
  }
  std::size_t lent() const noexcept { return lent_; }

 private:
  std::size_t lent_ = 0;
  std::vector<std::unique_ptr<char[]>> large_free_;
  std::vector<std::unique_ptr<char[]>> small_free_;
};

/// A session's body buffer: a block taken from the worker's pool on first use (of data() or
/// size()), given back by release() (or with the session).
class RelayBuffer {
 public:
  explicit RelayBuffer(BlockPool& pool) : pool_(pool) {}
  ~RelayBuffer() { release(); }
  RelayBuffer(const RelayBuffer&) = delete;
  RelayBuffer& operator=(const RelayBuffer&) = delete;

  char* data() {
    if (!block_.data) block_ = pool_.take();
    return block_.data.get();
  }
  std::size_t size() {
    data();
    return block_.size;
  }
  void release() { pool_.give(std::move(block_)); block_ = {}; }

 private:
  BlockPool& pool_;
  BlockPool::Block block_;
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
  net_upstream::Pool pool;
  std::thread thread;

  /// Closes idle keep-alive connections; busy ones close after their current response.
  void drain();
};

/// Serves one client connection until it closes, errs, or the proxy drains.
net::awaitable<void> run_session(Worker& w, tcp::socket socket);
/// The same for a Unix-domain-socket client.
net::awaitable<void> run_session(Worker& w, net::local::stream_protocol::socket socket);

/// Opens one upstream connection into the worker's pool ahead of any request (none when pooling
/// is off); a failure is logged at debug level and changes nothing else.
net::awaitable<void> open_spare_connection(Worker& w);

/// Probes the upstream's ready path through Access (uses the worker's pool).
net::awaitable<ProbeResult> probe_upstream(Worker& w);

}  // namespace vp::proxy
