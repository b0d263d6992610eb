// What a scan hands back when its change copies are made after the table entries, and
// when the next scan first returns the freed heap (ScannerOptions::release_heap_after).
#include <gtest/gtest.h>

#include "fixture_tree.h"
#include "sandwatch/core/procfs/process_scanner.h"

namespace sandwatch::procfs {
namespace {

using ::sandwatch::procfs::testing::FixtureTree;

void ExpectSameProcess(const ProcessInfo& a, const ProcessInfo& b) {
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.exe, b.exe);
  EXPECT_EQ(a.cmdline, b.cmdline);
  EXPECT_EQ(a.cwd, b.cwd);
  EXPECT_EQ(a.fds.size(), b.fds.size());
  EXPECT_EQ(a.sockets.size(), b.sockets.size());
  ASSERT_EQ(a.ancestors.size(), b.ancestors.size());
  for (size_t i = 0; i < a.ancestors.size(); ++i) {
    EXPECT_EQ(a.ancestors[i].pid, b.ancestors[i].pid);
    EXPECT_EQ(a.ancestors[i].cmdline, b.ancestors[i].cmdline);
  }
}

TEST(ProcfsScannerChangesTest, ChangesAreInPidOrderAndEqualTheTable) {
  FixtureTree tree;
  ProcessScanner scanner{ProcFs(tree.root())};
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_GE(r->changes.size(), 5u);
  for (size_t i = 0; i < r->changes.size(); ++i) {
    const ProcessChange& c = r->changes[i];
    if (i > 0) {
      EXPECT_LT(r->changes[i - 1].info.key.pid, c.info.key.pid);
    }
    EXPECT_EQ(c.kind, ChangeKind::kStarted);
    const ProcessInfo* kept = scanner.Find(c.info.key.pid);
    ASSERT_NE(kept, nullptr) << c.info.key.pid;
    ExpectSameProcess(c.info, *kept);
  }
}

TEST(ProcfsScannerChangesTest, ScanAfterAHeapReleaseStillReportsExecAndExit) {
  FixtureTree tree;
  ScannerOptions o;
  o.release_heap_after = 1;  // every scan with a change releases before the next one
  ProcessScanner scanner(ProcFs(tree.root()), o);
  ASSERT_TRUE(scanner.Scan().ok());
  tree.WriteStat(100, "cat", 1, 1000);  // same start ticks: bash exec'd cat
  tree.Symlink("100/exe", "/usr/bin/cat");
  tree.WriteStat(300, "sh", 1, 9000);  // pid 300 reused by a later process
  auto r = scanner.Scan();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->changes.size(), 2u);
  EXPECT_EQ(r->changes[0].kind, ChangeKind::kExeced);
  EXPECT_EQ(r->changes[0].info.exe, "/usr/bin/cat");
  EXPECT_EQ(r->changes[1].kind, ChangeKind::kStarted);
  EXPECT_EQ(r->changes[1].info.key, (ProcessKey{300, 9000}));
  ExpectSameProcess(r->changes[0].info, *scanner.Find(100));
  ASSERT_EQ(r->exited.size(), 1u);
  EXPECT_EQ(r->exited[0].pid, 300);
  auto quiet = scanner.Scan();  // released again first; nothing changed since
  ASSERT_TRUE(quiet.ok());
  EXPECT_TRUE(quiet->changes.empty());
  EXPECT_TRUE(quiet->exited.empty());
}

}  // namespace
}  // namespace sandwatch::procfs
