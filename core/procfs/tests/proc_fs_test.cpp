#include "sandwatch/core/procfs/proc_fs.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "fixture_tree.h"
#include "sandwatch/core/procfs/parsers.h"

namespace sandwatch::procfs {
namespace {

using ::sandwatch::procfs::testing::FixtureTree;

TEST(ProcfsFs, ListsNumericEntriesSorted) {
  FixtureTree tree;
  tree.Write("self-not-a-pid/stat", "x");
  tree.Write("12abc/stat", "x");
  ProcFs fs(tree.root() + "/");  // a trailing slash is tolerated
  auto pids = fs.ListPids();
  ASSERT_TRUE(pids.ok()) << pids.error().message;
  EXPECT_EQ(*pids, (std::vector<int>{1, 2, 100, 200, 300, 301, 400, 500}));
  EXPECT_EQ(fs.PidPath(7), tree.root() + "/7");
}

TEST(ProcfsFs, ReadsFilesAndLinks) {
  FixtureTree tree;
  ProcFs fs(tree.root());
  auto stat = fs.ReadPidFile(200, "stat");
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(ParseStat(*stat)->comm, "a) b");
  std::string buf;
  ASSERT_TRUE(fs.ReadStatInto(200, &buf).ok());
  EXPECT_EQ(buf, *stat);
  EXPECT_EQ(fs.ReadLink(200, "exe").value(), "/tmp/dropper (deleted)");
  EXPECT_EQ(fs.ReadLink(300, "fd/3").value(), "socket:[5001]");
  EXPECT_EQ(fs.ListFds(300).value(), (std::vector<int>{0, 3, 4, 5, 6}));
  EXPECT_EQ(fs.ListFds(300, 2).value().size(), 2u);
  auto tcp = fs.ReadPidFile(300, "net/tcp");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(ParseNetTable(*tcp, "tcp").size(), 2u);
}

TEST(ProcfsFs, CapsLargeFiles) {
  FixtureTree tree;
  tree.Write("100/cmdline", std::string(100000, 'a'));
  ProcFs fs(tree.root());
  EXPECT_EQ(fs.ReadPidFile(100, "cmdline", 5000).value().size(), 5000u);
  EXPECT_EQ(fs.ReadPidFile(100, "cmdline").value().size(), 100000u);
}

TEST(ProcfsFs, VanishedPidIsGoneNotOtherError) {
  FixtureTree tree;
  ProcFs fs(tree.root());
  auto cmd = fs.ReadPidFile(500, "cmdline");  // pid 500 lost everything but stat
  ASSERT_FALSE(cmd.ok());
  EXPECT_TRUE(IsGone(cmd.error()));
  std::string buf;
  Status st = fs.ReadStatInto(9999, &buf);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(IsGone(st.error()));
  EXPECT_TRUE(IsGone(fs.ReadLink(500, "exe").error()));
  EXPECT_TRUE(IsGone(fs.ListFds(500).error()));
  // Reading a directory as a file is an error, but not "gone".
  auto dir = fs.ReadPidFile(100, "fd");
  ASSERT_FALSE(dir.ok());
  EXPECT_FALSE(IsGone(dir.error()));
  EXPECT_EQ(dir.error().code, EISDIR);
}

TEST(ProcfsFs, ListsTasksOfAProcess) {
  FixtureTree tree;
  tree.Write("100/task/100/stat", "x");
  tree.Write("100/task/107/stat", "x");
  tree.Write("100/task/not-a-tid", "x");
  ProcFs fs(tree.root());
  EXPECT_EQ(fs.ListTasks(100).value(), (std::vector<int>{100, 107}));
  EXPECT_TRUE(IsGone(fs.ListTasks(9999).error()));
  auto self = ProcFs().ListTasks(getpid());  // the real /proc: at least the main thread
  ASSERT_TRUE(self.ok()) << self.error().message;
  EXPECT_NE(std::find(self->begin(), self->end(), getpid()), self->end());
}

TEST(ProcfsFs, MissingRootIsAnError) {
  ProcFs fs("/nonexistent/sandwatch/proc");
  auto pids = fs.ListPids();
  ASSERT_FALSE(pids.ok());
  EXPECT_NE(pids.error().message.find("/nonexistent/sandwatch/proc"), std::string::npos);
}

TEST(ProcfsFs, RaiseFdSoftLimitReachesHard) {
  auto soft = RaiseFdSoftLimit();
  ASSERT_TRUE(soft.ok()) << soft.error().message;
  rlimit lim{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  EXPECT_EQ(*soft, lim.rlim_max);
  EXPECT_EQ(lim.rlim_cur, lim.rlim_max);
}

TEST(ProcfsFs, RealProcSelf) {
  ProcFs fs;  // default "/proc"
  EXPECT_EQ(fs.root(), "/proc");
  auto stat = fs.ReadPidFile(getpid(), "stat");
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(ParseStat(*stat)->pid, getpid());
  auto exe = fs.StatPidFile(getpid(), "exe");
  ASSERT_TRUE(exe.ok());
  EXPECT_GT(exe->inode, 0u);
}

TEST(ProcfsFs, ReadExeTakesPathAndIdentityFromOneOpen) {
  ProcFs fs("/proc");
  auto dir = fs.OpenPid(static_cast<int>(::getpid()));
  ASSERT_TRUE(dir.ok());
  auto exe = dir->ReadExe();
  ASSERT_TRUE(exe.ok()) << exe.error().message;
  EXPECT_EQ(exe->link, fs.ReadLink(static_cast<int>(::getpid()), "exe").value());
  ASSERT_TRUE(exe->stat.has_value());
  auto direct = fs.StatPidFile(static_cast<int>(::getpid()), "exe");
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(exe->stat->inode, direct->inode);
  EXPECT_EQ(exe->stat->dev, direct->dev);
  EXPECT_GT(exe->stat->ctime_ns, 0);
  // A fixture tree is not procfs: the link text is kept as written; a dangling link
  // (a deleted binary) has no identity.
  FixtureTree tree;
  ProcFs fixture(tree.root());
  auto deleted = fixture.OpenPid(200);
  ASSERT_TRUE(deleted.ok());
  auto d = deleted->ReadExe();
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->link, "/tmp/dropper (deleted)");
  EXPECT_FALSE(d->stat.has_value());
}

TEST(ProcfsFs, SocketProtocolNamesUnixAndTcpSockets) {
  std::array<int, 2> pair;
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair.data()), 0);
  int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(tcp, 0);
  auto dir = ProcFs().OpenPid(getpid());
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(dir->SocketProtocol(pair[0]).value_or(""), "UNIX-STREAM");
  EXPECT_EQ(dir->SocketProtocol(tcp).value_or(""), "TCP");
  EXPECT_FALSE(dir->SocketProtocol(0x7fff).ok());  // not open
  close(pair[0]);
  close(pair[1]);
  close(tcp);
}

}  // namespace
}  // namespace sandwatch::procfs
