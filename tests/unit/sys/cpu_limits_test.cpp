// sys/cpu_limits: the affinity mask, /proc/self/cgroup, mountinfo and cpu.max as the default worker
// count reads them (issue 17).

#include "sys/cpu_limits.hpp"

#include <gtest/gtest.h>

#include <sched.h>

#include <thread>

namespace vp {
namespace {

TEST(CpuLimits, FindsTheCgroupV2PathAmongV1Lines) {
  EXPECT_EQ(sys::cgroup2_path("0::/system.slice/vault-proxy.service\n"), "/system.slice/vault-proxy.service");
  EXPECT_EQ(sys::cgroup2_path("4:memory:/x\n1:cpu:/\n0::/user.slice/a\n"), "/user.slice/a");
  EXPECT_EQ(sys::cgroup2_path("0::/\n"), "/");
  EXPECT_EQ(sys::cgroup2_path("4:memory:/x\n1:cpu:/\n"), std::nullopt);
  EXPECT_EQ(sys::cgroup2_path(""), std::nullopt);
}

TEST(CpuLimits, FindsTheCgroup2MountInMountinfo) {
  const char* hybrid =
      "24 30 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
      "33 24 0:28 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro\n"
      "34 33 0:29 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
      "35 33 0:30 / /sys/fs/cgroup/cpu rw,nosuid shared:11 - cgroup cgroup rw,cpu\n";
  auto m = sys::cgroup2_mount(hybrid);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ(m->root, "/");
  // Optional fields before the separator, and an escaped space in the mount point.
  auto odd = sys::cgroup2_mount("40 1 0:31 /kubepods /sys/fs/c\\040g rw shared:1 master:2 - cgroup2 none rw\n");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->mount_point, "/sys/fs/c g");
  EXPECT_EQ(odd->root, "/kubepods");
  EXPECT_EQ(sys::cgroup2_mount("35 33 0:30 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"), std::nullopt);
}

TEST(CpuLimits, WalksFromTheLeafCgroupUpToTheMount) {
  sys::Cgroup2Mount root{"/sys/fs/cgroup", "/"};
  EXPECT_EQ(sys::cgroup_dirs(root, "/system.slice/vp.service"),
            (std::vector<std::string>{"/sys/fs/cgroup/system.slice/vp.service", "/sys/fs/cgroup/system.slice",
                                      "/sys/fs/cgroup"}));
  EXPECT_EQ(sys::cgroup_dirs(root, "/"), (std::vector<std::string>{"/sys/fs/cgroup"}));
  sys::Cgroup2Mount nested{"/sys/fs/cgroup", "/kubepods"};
  EXPECT_EQ(sys::cgroup_dirs(nested, "/kubepods/pod1"),
            (std::vector<std::string>{"/sys/fs/cgroup/pod1", "/sys/fs/cgroup"}));
  EXPECT_TRUE(sys::cgroup_dirs(nested, "/kubepodsX/pod1").empty());
  EXPECT_TRUE(sys::cgroup_dirs(nested, "/other").empty());
  EXPECT_TRUE(sys::cgroup_dirs(root, "/a/../../etc").empty());
}

TEST(CpuLimits, ReadsThisProcessAffinityMask) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
  auto limits = sys::read_cpu_limits();
  EXPECT_EQ(limits.affinity, static_cast<unsigned>(CPU_COUNT(&set)));
  for (const auto& text : limits.cpu_max) EXPECT_NE(text.find(' '), std::string::npos) << text;
}

}  // namespace
}  // namespace vp
