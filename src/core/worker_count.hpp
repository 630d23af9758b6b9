#pragma once
// How many worker threads `serve` starts when none are configured: the CPUs this process may run
// on, as nginx's `worker_processes auto`, HAProxy's `nbthread` and Go's `GOMAXPROCS` count them
// (issue 17). Pure: sys/cpu_limits reads the facts, proxy/server puts them together.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vp::core {

/// Where the worker count came from (shown by `/__vault-proxy/status` and the start log).
enum class WorkerSource {
  config,          ///< `threads` was set
  affinity,        ///< the CPUs in the process's affinity mask (sched_getaffinity)
  cgroup_cpu_max,  ///< a cgroup v2 `cpu.max` quota below the affinity count
  hardware,        ///< the affinity mask could not be read: the machine's CPU count
};

/// "config", "affinity", "cgroup cpu.max", "hardware".
std::string_view worker_source_name(WorkerSource source);

/// What the default is decided from.
struct CpuFacts {
  unsigned configured = 0;  ///< the `threads` setting; 0 = decide from the rest
  unsigned affinity = 0;    ///< CPUs in the affinity mask; 0 = unknown
  unsigned hardware = 1;    ///< std::thread::hardware_concurrency(), used when affinity is unknown
  /// The text of every `cpu.max` from the process's cgroup up to the root; the tightest wins.
  std::vector<std::string> cpu_max;
};

/// The decision.
struct WorkerCount {
  unsigned count = 1;
  WorkerSource source = WorkerSource::hardware;
};

/// A `cpu.max` file ("QUOTA PERIOD", or "max PERIOD" for no limit) as whole CPUs, rounded up
/// ("150000 100000" -> 2); nullopt when unlimited or not in that form.
std::optional<unsigned> cpu_max_cpus(std::string_view text);

/// The worker count: `configured` when set; else the affinity count (or `hardware` when that is
/// unknown), capped by the tightest cpu.max quota. Never 0.
WorkerCount worker_count(const CpuFacts& facts);

}  // namespace vp::core
