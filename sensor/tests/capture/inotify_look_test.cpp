// NewPidLook on a fixture proc tree: the diff against the last look, the wait
// for a pending exec, the fork list, and the zombie named by a dropped file.
// Also the vantage line.
#include "inotify_look.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "capture_plan.h"
#include "capture_test_support.h"
#include "sandwatch/core/clock.h"

namespace sandwatch::sensor {
namespace {

namespace fs = std::filesystem;

class FixtureProc {
 public:
  FixtureProc() {
    std::string tmpl = "/tmp/sw-look-test-XXXXXX";
    root_ = mkdtemp(tmpl.data());
  }
  ~FixtureProc() { fs::remove_all(root_); }
  const std::string& root() const { return root_; }

  // A process: stat with comm and ppid, cmdline, and exe as a symlink ("" for a zombie).
  void Add(int pid, int ppid, const std::string& comm, const std::string& exe,
           const std::string& cmdline) {
    const std::string dir = root_ + "/" + std::to_string(pid);
    fs::create_directories(dir);
    std::ofstream(dir + "/stat") << pid << " (" << comm << ") S " << ppid
                                 << " 1 1 0 -1 0 0 0 0 0 0 0 0 20 0 1 0 " << 1000 + pid << " 0 0\n";
    std::ofstream(dir + "/cmdline") << cmdline;
    fs::remove(dir + "/exe");
    if (!exe.empty()) fs::create_symlink(exe, dir + "/exe");
  }
  void SetExe(int pid, const std::string& exe) {
    const std::string link = root_ + "/" + std::to_string(pid) + "/exe";
    fs::remove(link);
    fs::create_symlink(exe, link);
  }

 private:
  std::string root_;
};

NewPidLookOptions Options(const std::string& proc) {
  NewPidLookOptions o;
  o.proc_root = proc;
  o.settle_ns = 0;  // a pending pid goes to the fork list at its first re-check
  return o;
}

TEST(NewPidLook, ReportsOnlyPidsNewSinceTheLastLookWithTheirArgv) {
  FixtureProc proc;
  proc.Add(1, 0, "init", "/sbin/init", std::string("init\0", 5));
  testing::RecordingSink sink;
  NewPidLook look(Options(proc.root()));
  ASSERT_TRUE(look.Open(&sink).ok());
  proc.Add(40, 1, "tool", "/tmp/drop/tool", std::string("/tmp/drop/tool\0-x\0", 18));
  look.Look(123, 3);
  look.Look(124, 1);  // nothing new: no second report
  auto obs = sink.Snapshot();
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0].kind, Observation::Kind::kExec);
  EXPECT_EQ(obs[0].method, "inotify");
  EXPECT_EQ(obs[0].pid, 40);
  EXPECT_EQ(obs[0].ppid, 1);
  EXPECT_EQ(obs[0].kernel_mono_ns, 123);
  ASSERT_TRUE(obs[0].early);
  EXPECT_EQ(obs[0].early->exe, "/tmp/drop/tool");
  EXPECT_EQ(obs[0].early->cmdline, (std::vector<std::string>{"/tmp/drop/tool", "-x"}));
  std::map<std::string, int64_t> c;
  look.AddCounters(&c);
  EXPECT_EQ(c["inotify_looks"], 2);
  EXPECT_EQ(c["inotify_triggers_merged"], 2);
  EXPECT_EQ(c["inotify_look_new_pids"], 1);
  EXPECT_EQ(c["inotify_look_execs"], 1);
}

TEST(NewPidLook, WaitsForTheExecOfAChildStillRunningItsParentsImage) {
  FixtureProc proc;
  proc.Add(1, 0, "spawner", "/usr/bin/spawner", std::string("spawner\0", 8));
  testing::RecordingSink sink;
  NewPidLook look(Options(proc.root()));
  ASSERT_TRUE(look.Open(&sink).ok());
  // Forked, exec not done: the parent's image. Not reported; kept as a fork.
  proc.Add(50, 1, "spawner", "/usr/bin/spawner", std::string("spawner\0", 8));
  look.Look(1, 1);
  EXPECT_EQ(look.CheckPending(), -1);
  EXPECT_TRUE(sink.Snapshot().empty());
  // The exec completes later: the next look re-checks the fork list.
  proc.Add(50, 1, "static-trial", "/tmp/d/static-trial", std::string("/tmp/d/static-trial\0", 20));
  look.Look(2, 1);
  look.CheckPending();
  auto obs = sink.Snapshot();
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0].early->exe, "/tmp/d/static-trial");
  std::map<std::string, int64_t> c;
  look.AddCounters(&c);
  EXPECT_EQ(c["inotify_look_forks"], 1);
}

TEST(NewPidLook, AZombieIsNamedOnlyByADroppedFileItsCommMatches) {
  FixtureProc proc;
  proc.Add(1, 0, "init", "/sbin/init", std::string("init\0", 5));
  testing::RecordingSink sink;
  NewPidLook look(Options(proc.root()));
  ASSERT_TRUE(look.Open(&sink).ok());
  // Zombies: stat only. One matches a dropped file that was just opened (comm
  // is cut to 15 bytes), one does not.
  proc.Add(60, 1, "a-very-long-too", "", "");
  proc.Add(61, 1, "other", "", "");
  look.NoteDroppedOpen("/tmp/d/a-very-long-tool-name", SystemClock().MonoNs());
  look.Look(1, 1);
  auto obs = sink.Snapshot();
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0].pid, 60);
  EXPECT_EQ(obs[0].early->exe, "/tmp/d/a-very-long-tool-name");
  EXPECT_FALSE(obs[0].early->complete);
  EXPECT_TRUE(obs[0].early->cmdline.empty());
  std::map<std::string, int64_t> c;
  look.AddCounters(&c);
  EXPECT_EQ(c["inotify_look_exe_from_event"], 1);
  EXPECT_EQ(c["inotify_look_gone"], 1);
}

TEST(VantageText, SaysWhatEachVantageMeansForShortProcesses) {
  EXPECT_NE(VantageText("inotify", "sidecar").find("sidecar without privileges"),
            std::string::npos);
  EXPECT_NE(VantageText("inotify", "sidecar").find("1 ms"), std::string::npos);
  EXPECT_NE(VantageText("fanotify", "sidecar").find("privileged sidecar"), std::string::npos);
  EXPECT_NE(VantageText("netlink+fanotify", "node").find("node"), std::string::npos);
  EXPECT_NE(VantageText("poll", "kata").find("POLL_INTERVAL"), std::string::npos);
}

}  // namespace
}  // namespace sandwatch::sensor
