#include "core/worker_count.hpp"

#include <algorithm>
#include <charconv>

namespace vp::core {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::optional<unsigned long long> whole_number(std::string_view s) {
  unsigned long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::string_view worker_source_name(WorkerSource source) {
  switch (source) {
    case WorkerSource::config: return "config";
    case WorkerSource::affinity: return "affinity";
    case WorkerSource::cgroup_cpu_max: return "cgroup cpu.max";
    case WorkerSource::hardware: return "hardware";
  }
  return "hardware";
}

std::optional<unsigned> cpu_max_cpus(std::string_view text) {
  text = trim(text);
  auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto quota = whole_number(text.substr(0, space));
  auto period = whole_number(trim(text.substr(space + 1)));
  if (!quota || !period || *period == 0 || *quota == 0) return std::nullopt;  // "max" fails here too
  auto cpus = (*quota + *period - 1) / *period;
  return static_cast<unsigned>(std::min<unsigned long long>(cpus, 1u << 16));
}

WorkerCount worker_count(const CpuFacts& facts) {
  if (facts.configured != 0) return {facts.configured, WorkerSource::config};
  WorkerCount out{std::max(1u, facts.hardware), WorkerSource::hardware};
  if (facts.affinity != 0) out = {facts.affinity, WorkerSource::affinity};
  for (const auto& text : facts.cpu_max) {
    auto cpus = cpu_max_cpus(text);
    if (cpus && *cpus < out.count) out = {*cpus, WorkerSource::cgroup_cpu_max};
  }
  return out;
}

}  // namespace vp::core
