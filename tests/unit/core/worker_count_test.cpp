// The default worker count (issue 17): the CPUs the process may run on, from the affinity mask,
// capped by cgroup v2 cpu.max quotas; and the parsing of /proc/self/cgroup, mountinfo and cpu.max.

#include "core/worker_count.hpp"

#include <gtest/gtest.h>

#include <sched.h>

#include <thread>

namespace vp {
namespace {

using core::WorkerSource;

// (GCC 12 warns about every member a designated initializer leaves out, hence a helper.)
core::CpuFacts facts(unsigned configured, unsigned affinity, unsigned hardware, std::vector<std::string> cpu_max = {}) {
  core::CpuFacts f;
  f.configured = configured;
  f.affinity = affinity;
  f.hardware = hardware;
  f.cpu_max = std::move(cpu_max);
  return f;
}

struct CountCase {
  const char* name;
  core::CpuFacts facts;
  unsigned count;
  WorkerSource source;
};

TEST(WorkerCount, FollowsConfigThenAffinityThenTheTightestQuota) {
  const CountCase cases[] = {
      {"configured wins over everything", facts(6, 1, 8, {"100000 100000"}), 6, WorkerSource::config},
      {"taskset -c 0 on an 8-CPU machine", facts(0, 1, 8), 1, WorkerSource::affinity},
      {"affinity of 3", facts(0, 3, 8), 3, WorkerSource::affinity},
      {"no quota set", facts(0, 4, 4, {"max 100000"}), 4, WorkerSource::affinity},
      {"quota of 1.5 CPUs rounds up", facts(0, 8, 8, {"150000 100000"}), 2, WorkerSource::cgroup_cpu_max},
      {"quota of half a CPU is one", facts(0, 8, 8, {"50000 100000"}), 1, WorkerSource::cgroup_cpu_max},
      {"quota above the affinity changes nothing", facts(0, 2, 8, {"400000 100000"}), 2, WorkerSource::affinity},
      {"quota equal to the affinity keeps affinity", facts(0, 2, 8, {"200000 100000"}), 2, WorkerSource::affinity},
      {"a parent's quota is tighter", facts(0, 8, 8, {"max 100000", "300000 100000", "600000 100000"}), 3, WorkerSource::cgroup_cpu_max},
      {"a malformed cpu.max is ignored", facts(0, 4, 8, {"garbage", "", "0 100000", "100000 0"}), 4, WorkerSource::affinity},
      {"affinity unknown: the hardware count", facts(0, 0, 8), 8, WorkerSource::hardware},
      {"affinity unknown, quota applies", facts(0, 0, 8, {"200000 100000\n"}), 2, WorkerSource::cgroup_cpu_max},
      {"nothing known: one worker", facts(0, 0, 0), 1, WorkerSource::hardware},
  };
  for (const auto& c : cases) {
    auto got = core::worker_count(c.facts);
    EXPECT_EQ(got.count, c.count) << c.name;
    EXPECT_EQ(got.source, c.source) << c.name;
  }
}

TEST(WorkerCount, SourcesHaveTheNamesStatusShows) {
  EXPECT_EQ(core::worker_source_name(WorkerSource::config), "config");
  EXPECT_EQ(core::worker_source_name(WorkerSource::affinity), "affinity");
  EXPECT_EQ(core::worker_source_name(WorkerSource::cgroup_cpu_max), "cgroup cpu.max");
  EXPECT_EQ(core::worker_source_name(WorkerSource::hardware), "hardware");
}

TEST(WorkerCount, CpuMaxIsWholeCpusRoundedUp) {
  EXPECT_EQ(core::cpu_max_cpus("max 100000\n"), std::nullopt);
  EXPECT_EQ(core::cpu_max_cpus("100000 100000\n"), 1u);
  EXPECT_EQ(core::cpu_max_cpus("100001 100000"), 2u);
  EXPECT_EQ(core::cpu_max_cpus("1000 100000"), 1u);
  EXPECT_EQ(core::cpu_max_cpus("250000 100000"), 3u);
  EXPECT_EQ(core::cpu_max_cpus("-1 100000"), std::nullopt);
  EXPECT_EQ(core::cpu_max_cpus("100000"), std::nullopt);
  EXPECT_EQ(core::cpu_max_cpus("100000 100000 7"), std::nullopt);
}

}  // namespace
}  // namespace vp
