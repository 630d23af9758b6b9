#include "proxy/workers.hpp"

#include "sys/cpu_limits.hpp"

#include <thread>

namespace vp::proxy {

core::WorkerCount decide_workers(unsigned configured) {
  core::CpuFacts facts;
  facts.configured = configured;
  facts.hardware = std::thread::hardware_concurrency();
  if (configured == 0) {
    auto limits = sys::read_cpu_limits();
    facts.affinity = limits.affinity;
    facts.cpu_max = std::move(limits.cpu_max);
  }
  return core::worker_count(facts);
}

}  // namespace vp::proxy
