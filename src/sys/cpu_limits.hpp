#pragma once
// The CPUs this process may use, as the kernel limits them: the affinity mask (taskset, systemd
// CPUAffinity=, a cpuset) and cgroup v2 `cpu.max` quotas (a container's --cpus, systemd
// CPUQuota=). The parsing is pure and tested on its own; read_cpu_limits() is the thin reader.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vp::sys {

/// The cgroup v2 path of this process from /proc/self/cgroup (the "0::/PATH" line); nullopt when
/// the process is in no v2 hierarchy.
std::optional<std::string> cgroup2_path(std::string_view proc_self_cgroup);

/// Where the cgroup v2 hierarchy is mounted, from /proc/self/mountinfo: {mount point, root of the
/// mount within the hierarchy}; nullopt when it is not mounted.
struct Cgroup2Mount {
  std::string mount_point;
  std::string root;
};
std::optional<Cgroup2Mount> cgroup2_mount(std::string_view proc_self_mountinfo);

/// The directories whose `cpu.max` apply to a process in cgroup `path`, leaf first, up to the
/// mount point: "/sys/fs/cgroup" + "/a/b" -> "/sys/fs/cgroup/a/b", "/sys/fs/cgroup/a",
/// "/sys/fs/cgroup". A path outside the mount's root, or with "..", gives none.
std::vector<std::string> cgroup_dirs(const Cgroup2Mount& mount, std::string_view path);

/// What read_cpu_limits() found.
struct CpuLimits {
  unsigned affinity = 0;             ///< CPUs in sched_getaffinity's mask; 0 when it failed
  std::vector<std::string> cpu_max;  ///< the text of every cpu.max found, leaf cgroup first
};

/// Reads the affinity mask, /proc/self/cgroup, /proc/self/mountinfo and the cpu.max of the
/// process's cgroup and of each parent (sys::read_file, no symlink followed). A file that is
/// missing or unreadable is skipped: the limit it would hold is then not applied.
CpuLimits read_cpu_limits();

}  // namespace vp::sys
