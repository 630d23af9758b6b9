#include "proxy/worker.hpp"

#include <spdlog/spdlog.h>

namespace vp::proxy {

void Worker::drain() {
  for (auto* h : sessions) {
    if (h->idle) h->close_idle();
  }
  pool.clear();
}

// An upstream that is down at start is not an error yet: nothing has asked for it. The first
// request connects as it always did, and reports the failure if there is still one.
net::awaitable<void> open_spare_connection(Worker& w) {
  if (w.shared.cfg.pool_size == 0) co_return;
  auto r = co_await w.pool.open_spare();
  if (r.error) {
    spdlog::debug("no upstream connection opened ahead of the first request ({}); it will connect itself", r.detail);
  } else if (w.shared.draining) {
    w.pool.clear();
  }
}

}  // namespace vp::proxy
