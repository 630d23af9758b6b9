#include "sys/cpu_limits.hpp"

#include "sys/files.hpp"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace vp::sys {
namespace {

// The next space-separated field of a mountinfo line.
std::string_view next_field(std::string_view& line) {
  auto end = line.find(' ');
  auto field = line.substr(0, end);
  line = end == std::string_view::npos ? std::string_view{} : line.substr(end + 1);
  return field;
}

// mountinfo escapes space, tab, newline and backslash in paths as \040 and the like (proc(5)).
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() &&
        std::all_of(s.begin() + i + 1, s.begin() + i + 4, [](char c) { return c >= '0' && c <= '7'; })) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// CPU_COUNT over a mask large enough for every CPU the kernel knows: a fixed cpu_set_t holds
// 1024, and sched_getaffinity fails with EINVAL on larger machines, so grow until it fits.
unsigned affinity_count() {
  for (int cpus = 1024; cpus <= (1 << 18); cpus *= 4) {
    std::size_t size = CPU_ALLOC_SIZE(cpus);
    std::unique_ptr<cpu_set_t, void (*)(cpu_set_t*)> set(CPU_ALLOC(cpus), [](cpu_set_t* s) { CPU_FREE(s); });
    if (!set) return 0;
    CPU_ZERO_S(size, set.get());
    if (::sched_getaffinity(0, size, set.get()) == 0) return static_cast<unsigned>(CPU_COUNT_S(size, set.get()));
    if (errno != EINVAL) return 0;
  }
  return 0;
}

}  // namespace

std::optional<std::string> cgroup2_path(std::string_view text) {
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.starts_with("0::/")) return std::string(line.substr(3));
  }
  return std::nullopt;
}

std::optional<Cgroup2Mount> cgroup2_mount(std::string_view text) {
  // "36 25 0:31 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw": fields 4 and 5 are the
  // root and the mount point; the file system type follows the " - " separator.
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    auto dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto tail = line.substr(dash + 3);
    if (next_field(tail) != "cgroup2") continue;
    auto head = line.substr(0, dash);
    for (int i = 0; i < 3; ++i) next_field(head);
    auto root = next_field(head);
    auto mount_point = next_field(head);
    if (root.empty() || mount_point.empty()) continue;
    return Cgroup2Mount{unescape_octal(mount_point), unescape_octal(root)};
  }
  return std::nullopt;
}

std::vector<std::string> cgroup_dirs(const Cgroup2Mount& mount, std::string_view path) {
  std::string_view root = mount.root == "/" ? std::string_view{} : std::string_view(mount.root);
  if (!path.starts_with(root) || (path.size() > root.size() && path[root.size()] != '/')) return {};
  std::string_view rel = path.substr(root.size());
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  std::vector<std::string> dirs;
  while (!rel.empty()) {
    if (rel.find("/..") != std::string_view::npos) return {};  // never leave the mount
    dirs.push_back(mount.mount_point + std::string(rel));
    rel = rel.substr(0, rel.rfind('/'));
  }
  // In a container's own cgroup namespace the mount point is the container's cgroup, with its
  // cpu.max; at the real root there is no cpu.max, and the reader finds none.
  dirs.push_back(mount.mount_point);
  return dirs;
}

CpuLimits read_cpu_limits() {
  CpuLimits out;
  out.affinity = affinity_count();
  auto cgroup = read_file("/proc/self/cgroup", any_owner());
  auto mountinfo = read_file("/proc/self/mountinfo", any_owner());
  if (!cgroup.content || !mountinfo.content) return out;
  auto path = cgroup2_path(*cgroup.content);
  auto mount = cgroup2_mount(*mountinfo.content);
  if (!path || !mount) return out;
  for (const auto& dir : cgroup_dirs(*mount, *path)) {
    auto text = read_file(dir + "/cpu.max", any_owner());
    if (text.content) out.cpu_max.push_back(std::move(*text.content));
  }
  return out;
}

}  // namespace vp::sys
