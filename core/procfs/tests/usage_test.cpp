#include "sandwatch/core/procfs/usage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "fixture_tree.h"

namespace sandwatch::procfs {
namespace {

using ::sandwatch::procfs::testing::FixtureTree;

TEST(ProcfsUsage, SumsThreadsAndReadsMemoryFromAFixture) {
  FixtureTree tree;
  const long hz = sysconf(_SC_CLK_TCK);
  // utime 3 s and stime 1 s in ticks, a comm that looks like more fields.
  tree.Write("700/stat", "700 (a) 1 2 (b) S 1 700 700 0 -1 4194560 0 0 0 0 " +
                             std::to_string(3 * hz) + " " + std::to_string(hz) +
                             " 0 0 20 0 2 0 99 0 0\n");
  tree.Write("700/status", "Name:\tsensor\nVmHWM:\t  9000 kB\nVmRSS:\t  8000 kB\n");
  tree.Write("700/task/700/schedstat", "1500000000 10 5\n");
  tree.Write("700/task/701/schedstat", "2500000000 10 5\n");
  tree.Write("700/task/702/stat", "x");  // a thread that exited: no schedstat left
  auto u = ReadUsage(ProcFs(tree.root()), 700);
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_DOUBLE_EQ(u->cpu_s, 4.0);
  ASSERT_TRUE(u->sched_cpu_s.has_value());
  EXPECT_DOUBLE_EQ(*u->sched_cpu_s, 4.0);
  EXPECT_EQ(u->rss_kib, 8000);
  EXPECT_EQ(u->rss_peak_kib, 9000);
}

TEST(ProcfsUsage, GoneOrGarbledProcessesAreErrors) {
  FixtureTree tree;
  auto gone = ReadUsage(ProcFs(tree.root()), 9999);
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(IsGone(gone.error()));
  tree.Write("701/stat", "701 (x) S 1 2");
  EXPECT_FALSE(ReadUsage(ProcFs(tree.root()), 701).ok());
}

TEST(ProcfsLoadAverages, ReadFromTheRootAndEmptyWhenUnreadable) {
  FixtureTree tree;
  EXPECT_TRUE(ReadLoadAverages(ProcFs(tree.root())).empty());
  EXPECT_EQ(LoadAveragesText(ProcFs(tree.root())), "unknown");
  tree.Write("loadavg", "0.52 1.5 12.25 3/120 4242\n");
  EXPECT_EQ(ReadLoadAverages(ProcFs(tree.root())), (std::vector<double>{0.52, 1.5, 12.25}));
  EXPECT_EQ(LoadAveragesText(ProcFs(tree.root())), "0.52 1.50 12.25");
  tree.Write("loadavg", "garbage\n");
  EXPECT_TRUE(ReadLoadAverages(ProcFs(tree.root())).empty());
  EXPECT_EQ(ReadLoadAverages(ProcFs()).size(), 3U);
}

TEST(ProcfsUsage, ThisProcessOnTheRealProc) {
  auto u = ReadUsage(ProcFs(), getpid());
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_GT(u->rss_kib, 0);
  EXPECT_GE(u->rss_peak_kib, u->rss_kib);
  EXPECT_TRUE(u->sched_cpu_s.has_value());
}

}  // namespace
}  // namespace sandwatch::procfs
