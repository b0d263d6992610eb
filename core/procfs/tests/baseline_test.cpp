#include "sandwatch/core/procfs/baseline.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sandwatch::procfs {
namespace {

namespace fs = std::filesystem;

// A tiny workload root: usr-merged layout with /bin -> usr/bin, alternatives-style
// links, an absolute link that would escape to the host, and non-executables.
class ProcfsBaselineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/sandwatch-baseline-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl.data();
    Exe("usr/bin/ls", "ls-v1");
    Exe("usr/bin/nc.openbsd", "nc");
    Exe("usr/sbin/nginx", "nginx");
    Exe("usr/lib/x86_64-linux-gnu/helper", "h");
    Exe("opt/app/bin/server", "srv");
    File("usr/bin/README", "not executable", 0644);
    fs::create_directories(root_ + "/etc/alternatives");
    fs::create_symlink("usr/bin", root_ + "/bin");
    fs::create_symlink("usr/sbin", root_ + "/sbin");
    fs::create_symlink("/bin/nc.openbsd", root_ + "/etc/alternatives/nc");
    fs::create_symlink("/etc/alternatives/nc", root_ + "/usr/bin/nc");
    fs::create_symlink("/usr/bin/sh-host-only", root_ + "/usr/bin/dangling");
    fs::create_symlink("../../../../../../etc", root_ + "/usr/bin/escape");
    fs::create_directories(root_ + "/usr/local/bin");
    fs::create_symlink("/opt/app/bin/server", root_ + "/usr/local/bin/server");
  }
  void TearDown() override { fs::remove_all(root_); }

  void File(const std::string& rel, const std::string& content, mode_t mode) {
    fs::path p = fs::path(root_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
    chmod(p.c_str(), mode);
  }
  void Exe(const std::string& rel, const std::string& content) { File(rel, content, 0755); }
  FileStat StatOf(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(stat((root_ + rel).c_str(), &st), 0);
    FileStat f;
    f.dev = st.st_dev;
    f.inode = st.st_ino;
    f.size = st.st_size;
    f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    return f;
  }

  std::string root_;
};

TEST_F(ProcfsBaselineTest, RecordsExecutablesAsSeenInsideTheRoot) {
  auto b = Baseline::Build(root_);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_TRUE(b->Contains("/usr/bin/ls"));
  EXPECT_TRUE(b->Contains("/usr/sbin/nginx"));
  EXPECT_TRUE(b->Contains("/usr/bin/nc.openbsd"));
  EXPECT_TRUE(b->Contains("/usr/lib/x86_64-linux-gnu/helper"));
  EXPECT_TRUE(b->Contains("/opt/app/bin/server"));
  EXPECT_FALSE(b->Contains("/usr/bin/README"));
  EXPECT_FALSE(b->Contains("/usr/bin/dangling"));
  EXPECT_FALSE(b->Contains("/etc/passwd"));
  // Symlinks are recorded by their target (what /proc/PID/exe shows), and /bin is
  // not a second copy of /usr/bin.
  EXPECT_FALSE(b->Contains("/bin/ls"));
  EXPECT_EQ(b->size(), 5u);
  EXPECT_FALSE(b->truncated());
  EXPECT_EQ(b->root(), root_);
}

TEST_F(ProcfsBaselineTest, FileAddedAfterStartIsNotInBaseline) {
  auto b = Baseline::Build(root_ + "/");
  ASSERT_TRUE(b.ok());
  Exe("usr/bin/newtool", "x");
  EXPECT_FALSE(b->Contains("/usr/bin/newtool"));
}

TEST_F(ProcfsBaselineTest, ReplacedFileNoLongerMatches) {
  auto b = Baseline::Build(root_);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->Contains("/usr/bin/ls", StatOf("/usr/bin/ls")));
  // Overwritten in place (same inode, new size) and replaced by rename (new inode).
  File("usr/bin/ls", "ls-v2-longer", 0755);
  EXPECT_FALSE(b->Contains("/usr/bin/ls", StatOf("/usr/bin/ls")));
  EXPECT_TRUE(b->Contains("/usr/bin/ls"));  // path-only check still matches
  Exe("usr/sbin/nginx.new", "nginx");
  fs::rename(root_ + "/usr/sbin/nginx.new", root_ + "/usr/sbin/nginx");
  EXPECT_FALSE(b->Contains("/usr/sbin/nginx", StatOf("/usr/sbin/nginx")));
}

TEST_F(ProcfsBaselineTest, ProcessCheckRejectsDeletedAndMemfd) {
  auto b = Baseline::Build(root_);
  ASSERT_TRUE(b.ok());
  ProcessInfo p;
  p.exe = "/usr/bin/ls";
  EXPECT_TRUE(b->Contains(p));  // identity unknown: path only
  FileStat id = StatOf("/usr/bin/ls");
  p.exe_dev = id.dev;
  p.exe_inode = id.inode;
  p.exe_size = id.size;
  p.exe_mtime_ns = id.mtime_ns;
  EXPECT_TRUE(b->Contains(p));
  p.exe_size += 1;
  EXPECT_FALSE(b->Contains(p));
  ProcessInfo deleted;
  deleted.exe = "/usr/bin/ls";
  deleted.exe_deleted = true;
  EXPECT_FALSE(b->Contains(deleted));
  ProcessInfo memfd;
  memfd.exe = "/memfd:x";
  memfd.exe_memfd = true;
  memfd.exe_deleted = true;
  EXPECT_FALSE(b->Contains(memfd));
  EXPECT_FALSE(b->Contains(ProcessInfo{}));
  EXPECT_FALSE(Baseline().Contains("/usr/bin/ls"));
}

TEST_F(ProcfsBaselineTest, UnwalkedExecutableCountsWhenUnchangedSinceBeforeStart) {
  auto b = Baseline::Build(root_);
  ASSERT_TRUE(b.ok());
  // A pyenv python outside the walked dirs: its inode last changed long before start
  // (the identity of this machine's /usr/bin/tail stands in for it).
  struct stat old {};
  ASSERT_EQ(stat("/usr/bin/tail", &old), 0);
  ProcessInfo p;
  p.exe = "/root/.pyenv/versions/3.12/bin/python3.12";
  p.exe_dev = old.st_dev;
  p.exe_inode = old.st_ino;
  p.exe_size = old.st_size;
  p.exe_ctime_ns = static_cast<int64_t>(old.st_ctim.tv_sec) * 1000000000 + old.st_ctim.tv_nsec;
  EXPECT_TRUE(b->Contains(p));
  // Written after start: its ctime is not older than the walk.
  File("home/app/bin/dropped", "new", 0755);
  struct stat fresh {};
  ASSERT_EQ(stat((root_ + "/home/app/bin/dropped").c_str(), &fresh), 0);
  p.exe = "/home/app/bin/dropped";
  p.exe_inode = fresh.st_ino;
  p.exe_ctime_ns = static_cast<int64_t>(fresh.st_ctim.tv_sec) * 1000000000 + fresh.st_ctim.tv_nsec;
  EXPECT_FALSE(b->Contains(p));
  // A walked path whose identity changed is new whatever its ctime.
  p.exe = "/usr/bin/ls";
  p.exe_ctime_ns = 1;
  EXPECT_FALSE(b->Contains(p));
}

TEST_F(ProcfsBaselineTest, BoundedByMaxEntries) {
  BaselineOptions o;
  o.max_entries = 3;
  auto b = Baseline::Build(root_, o);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->truncated());
  EXPECT_LE(b->size(), 3u);
}

TEST_F(ProcfsBaselineTest, MissingRootIsAnError) {
  auto b = Baseline::Build(root_ + "/nope");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("nope"), std::string::npos);
}

TEST(ProcfsBaselineHost, ThisMachineThroughProcSelfRoot) {
  auto b = Baseline::Build("/proc/self/root");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_TRUE(b->Contains("/usr/bin/tail"));
  EXPECT_GT(b->size(), 100u);
}

}  // namespace
}  // namespace sandwatch::procfs
