#pragma once
// A worker: one thread, one io_context, one upstream pool, and the sessions it runs.

#include "net/upstream.hpp"
#include "proxy/state.hpp"

#include <functional>
#include <thread>
#include <unordered_set>

namespace vp::proxy {

/// What drain() needs to know about a live session.
struct SessionHandle {
  std::function<void()> close_idle;  ///< shuts the client socket down (used only while idle)
  bool idle = true;  ///< waiting for the next request (safe to close when draining)
};

/// One worker thread's state. Everything here is touched only from that thread.
struct Worker {
  explicit Worker(Shared& s) : shared(s), pool(ioc.get_executor(), s.tls, s.cfg) {}
  // Pooled sockets go before the io_context they belong to; session frames still pending in the
  // io_context are destroyed with it and unregister from `sessions`, which must outlive it.
  ~Worker() { pool.clear(); }

  Shared& shared;
  std::unordered_set<SessionHandle*> sessions;
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
