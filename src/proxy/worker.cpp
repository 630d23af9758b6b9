#include "proxy/worker.hpp"

namespace vp::proxy {

void Worker::drain() {
  for (auto* h : sessions) {
    if (h->idle) h->close_idle();
  }
  pool.clear();
}

}  // namespace vp::proxy
