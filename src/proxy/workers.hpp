#pragma once
// The worker count `serve` starts: the `threads` setting, or the CPUs this process may run on.

#include "core/worker_count.hpp"

namespace vp::proxy {

/// `configured` when non-zero; else the affinity mask capped by cgroup v2 cpu.max quotas
/// (sys::read_cpu_limits, core::worker_count).
core::WorkerCount decide_workers(unsigned configured);

}  // namespace vp::proxy
