// Runs the real chain on this machine (loopback only) and checks the ground truth
// against what /proc showed while it ran.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <set>

#include "sandwatch/core/signals.h"
#include "test_util.h"

namespace sandwatch::attacksim {
namespace {

using namespace sandwatch::attacksim::testing;  // NOLINT(google-build-using-namespace)

constexpr const char* kTestPackage = "sandwatch-attack-sim-testpkg";

class ChainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite_dir_ = TempDir();
    if (geteuid() == 0) deb_ = BuildTestDeb(suite_dir_, kTestPackage);
  }
  static void TearDownTestSuite() {
    if (geteuid() == 0 && PackageInstalled(kTestPackage)) PurgePackage(kTestPackage);
    std::filesystem::remove_all(suite_dir_);
  }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (reads /etc/shadow, runs dpkg -i)";
    if (deb_.empty()) GTEST_SKIP() << "dpkg-deb could not build the test package";
    ASSERT_FALSE(PackageInstalled(kTestPackage)) << "test package left installed by someone";
    dir_ = TempDir();
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Runs `run ARGS` with the staged test package and returns the ground truth; fills seen_.
  std::vector<GroundTruthStep> RunChain(std::vector<std::string> args, int expect_rc = 0,
                                        const std::string& path_env = "") {
    const std::string gt = dir_ + "/gt.jsonl";
    std::vector<std::string> full = {"run",    "--ground-truth", gt,           "--package-install",
                                     "staged", "--package",      kTestPackage, "--deb",
                                     deb_,     "--cleanup",      "--drop-dir", dir_};
    full.insert(full.end(), args.begin(), args.end());
    ExecRecorder recorder;
    if (!recorder.ok()) std::cerr << "proc connector unavailable: " << recorder.why_not() << "\n";
    Exec e = Start(full, dir_, "run", path_env);
    EXPECT_GT(e.pid, 0);
    sim_pid_ = e.pid;
    ProcWatcher watcher(e.pid);
    int rc = Wait(e);
    seen_ = watcher.Stop();
    connector_ok_ = recorder.ok();
    execs_ = recorder.Stop();
    EXPECT_EQ(rc, expect_rc) << ReadFile(e.err_path);
    return ReadTruth(gt);
  }

  // Checks that every line is internally consistent and matches what /proc showed.
  void CheckConsistent(const std::vector<GroundTruthStep>& steps, bool shell_parent) {
    if (shell_parent) {
      const GroundTruthStep* shell = FindStep(steps, "shell");
      ASSERT_NE(shell, nullptr);
      EXPECT_EQ(shell->ppid, sim_pid_);
      EXPECT_EQ(shell->signals, std::vector<std::string>{"unexpected_shell"});
    }
    std::set<std::string> run_ids;
    for (const auto& s : steps) {
      SCOPED_TRACE(s.step + "=" + s.variant + " note=" + s.note);
      run_ids.insert(s.run_id);
      if (s.status != "ran") continue;
      EXPECT_GT(s.pid, 0);
      EXPECT_GE(s.end_mono_ns, s.start_mono_ns);
      EXPECT_GE(s.end_wall_ns, s.start_wall_ns);
      EXPECT_NEAR(s.hold_ms, static_cast<double>(s.end_mono_ns - s.start_mono_ns) / 1e6, 1e-3);
      if (s.note.find("killed after hold") != std::string::npos) {
        EXPECT_GE(s.hold_ms, s.requested_hold_ms);
      }
      // The kernel saw this pid forked by its recorded parent, and exec something.
      if (connector_ok_ && s.step != "listener") {
        auto ev = execs_.find(s.pid);
        ASSERT_NE(ev, execs_.end()) << "pid " << s.pid << " not reported by the proc connector";
        EXPECT_EQ(ev->second.parent, s.ppid);
        EXPECT_GE(ev->second.execs, 1);
      }
      if (s.step == "listener" || s.step == "shell" || s.step == "cleanup") continue;
      ASSERT_FALSE(s.signals.empty());
      EXPECT_EQ(s.signal, s.signals.front());
      if (shell_parent) {
        const GroundTruthStep* shell = FindStep(steps, "shell", s.repeat);
        ASSERT_NE(shell, nullptr);
        EXPECT_EQ(s.ppid, shell->pid);
        EXPECT_GE(s.start_mono_ns, shell->start_mono_ns);
        EXPECT_LE(s.end_mono_ns, shell->end_mono_ns);
      } else {
        EXPECT_EQ(s.ppid, sim_pid_);
      }
      // A step that lived 250 ms or more was seen by a 1 ms /proc poll, with its argv
      // (scripts and bash-tcp show the argv they exec into, so only their pid is checked).
      auto it = seen_.find(s.pid);
      if (s.hold_ms >= 250 || (!connector_ok_ && it != seen_.end())) {
        ASSERT_NE(it, seen_.end()) << "pid " << s.pid << " never seen in /proc";
        EXPECT_EQ(it->second.ppid, s.ppid);
        if (s.variant == "script" || s.variant == "bash-tcp") {
          // argv differs by design: see the note.
        } else if (s.command.front().find('/') == std::string::npos) {
          EXPECT_EQ(
              std::vector<std::string>(it->second.cmdline.begin() + 1, it->second.cmdline.end()),
              std::vector<std::string>(s.command.begin() + 1, s.command.end()));
        } else {
          EXPECT_EQ(it->second.cmdline, s.command);
        }
      }
    }
    EXPECT_EQ(run_ids.size(), 1u);
    const GroundTruthStep* listener = FindStep(steps, "listener");
    if (FindStep(steps, "reverse-shell") != nullptr) {
      ASSERT_NE(listener, nullptr);
      EXPECT_NE(listener->note.find("uid="), std::string::npos) << listener->note;
    }
  }

  // --cleanup: the staged package is gone and nothing dropped survives.
  void CheckCleanedUp(const std::vector<GroundTruthStep>& steps) {
    EXPECT_FALSE(PackageInstalled(kTestPackage));
    EXPECT_FALSE(std::filesystem::exists("/usr/local/lib/" + std::string(kTestPackage)));
    const GroundTruthStep* nb = FindStep(steps, "new-binary");
    if (nb != nullptr && nb->variant != "ncat") {
      EXPECT_FALSE(std::filesystem::exists(nb->command.front()));
    }
    if (FindStep(steps, "package-install") != nullptr) {
      const GroundTruthStep* cleanup = FindStep(steps, "cleanup");
      ASSERT_NE(cleanup, nullptr);
      EXPECT_EQ(cleanup->command,
                (std::vector<std::string>{"dpkg", "--purge", std::string(kTestPackage)}));
      EXPECT_EQ(cleanup->exit_code, 0);
    }
  }

  static std::string suite_dir_;
  static std::string deb_;
  std::string dir_;
  pid_t sim_pid_ = 0;
  std::map<int, Seen> seen_;
  bool connector_ok_ = false;
  std::map<int, ExecRecorder::Proc> execs_;
};

std::string ChainTest::suite_dir_;
std::string ChainTest::deb_;

std::vector<std::string> StepNames(const std::vector<GroundTruthStep>& steps) {
  std::vector<std::string> out;
  out.reserve(steps.size());
  for (const auto& s : steps) out.push_back(s.step);
  return out;
}

TEST_F(ChainTest, BurstRunsEveryStepAtOnceAndRecordsAchievedHolds) {
  auto steps = RunChain({"--speed", "burst"});
  EXPECT_EQ(StepNames(steps),
            (std::vector<std::string>{"shadow", "aws-creds", "package-install", "new-binary",
                                      "reverse-shell", "listener", "shell", "cleanup"}));
  CheckConsistent(steps, true);
  CheckCleanedUp(steps);
  const GroundTruthStep* shadow = FindStep(steps, "shadow");
  ASSERT_NE(shadow, nullptr);
  EXPECT_EQ(shadow->command, (std::vector<std::string>{"cat", "/etc/shadow"}));
  EXPECT_EQ(shadow->requested_hold_ms, 0);
  EXPECT_GT(shadow->hold_ms, 0);  // whatever it really took, it is recorded
  EXPECT_EQ(shadow->exit_code, 0);
  const GroundTruthStep* pkg = FindStep(steps, "package-install");
  ASSERT_NE(pkg, nullptr);
  EXPECT_EQ(pkg->command.front(), "dpkg");
  EXPECT_EQ(pkg->exit_code, 0);
}

TEST_F(ChainTest, FastHoldsEachStepAboutAHundredMilliseconds) {
  auto steps = RunChain({"--speed", "fast"});
  CheckConsistent(steps, true);
  CheckCleanedUp(steps);
  for (const char* name : {"shadow", "aws-creds", "new-binary"}) {
    const GroundTruthStep* s = FindStep(steps, name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_EQ(s->requested_hold_ms, 100) << name;
    EXPECT_NE(s->note.find("killed after hold"), std::string::npos) << name << ": " << s->note;
    EXPECT_GE(s->hold_ms, 100) << name;
    EXPECT_EQ(s->exit_code, 143) << name;  // SIGTERM at the end of the hold, as bash reports it
  }
}

TEST_F(ChainTest, HumanSpeedWithShortOverridesAndPerStepHold) {
  auto steps = RunChain({"--speed", "human", "--hold-ms", "300", "--hold-ms", "shadow=150",
                         "--gap-ms", "50", "--variant", "new-binary=script"});
  CheckConsistent(steps, true);
  CheckCleanedUp(steps);
  const GroundTruthStep* shadow = FindStep(steps, "shadow");
  ASSERT_NE(shadow, nullptr);
  EXPECT_EQ(shadow->requested_hold_ms, 150);
  EXPECT_GE(shadow->hold_ms, 150);
  EXPECT_EQ(shadow->speed, "human");
  const GroundTruthStep* rs = FindStep(steps, "reverse-shell");
  ASSERT_NE(rs, nullptr);
  EXPECT_EQ(rs->requested_hold_ms, 300);  // the listener lingers that long before `exit`
  EXPECT_GE(rs->hold_ms, 300);
  EXPECT_EQ(rs->signals, (std::vector<std::string>{"nc_execution", "reverse_shell"}));
}

TEST_F(ChainTest, BlogSpeedReplaysTailAndFindLoop) {
  // The blog preset's 5 s holds, shortened to keep the suite quick; variants stay the blog's.
  auto steps = RunChain({"--speed", "blog", "--hold-ms", "250", "--gap-ms", "20", "--steps",
                         "shell,shadow,aws-creds"});
  CheckConsistent(steps, true);
  const GroundTruthStep* shadow = FindStep(steps, "shadow");
  ASSERT_NE(shadow, nullptr);
  EXPECT_EQ(shadow->command, (std::vector<std::string>{"tail", "-f", "/etc/shadow"}));
  const GroundTruthStep* aws = FindStep(steps, "aws-creds");
  ASSERT_NE(aws, nullptr);
  EXPECT_EQ(aws->variant, "find-loop");
  EXPECT_GE(aws->hold_ms, 250);
}

TEST_F(ChainTest, WithoutTheShellStepsAreDirectChildren) {
  auto steps = RunChain({"--speed", "fast", "--steps", "shadow,new-binary,reverse-shell"});
  EXPECT_EQ(FindStep(steps, "shell"), nullptr);
  CheckConsistent(steps, false);
  CheckCleanedUp(steps);
}

TEST_F(ChainTest, ToolVariantsRunForReal) {
  struct Case {
    std::vector<std::string> variants;
  };
  const std::vector<std::vector<std::string>> cases = {
      {"--variant", "shadow=head", "--variant", "reverse-shell=socat"},
      {"--variant", "shadow=python", "--variant", "reverse-shell=busybox-nc"},
      {"--variant", "shadow=less", "--variant", "reverse-shell=bash-tcp"},
      {"--variant", "shadow=dd", "--variant", "reverse-shell=ncat"},
  };
  for (const auto& variants : cases) {
    SCOPED_TRACE(variants[1] + " " + variants[3]);
    std::vector<std::string> args = {"--speed", "fast", "--steps", "shell,shadow,reverse-shell"};
    args.insert(args.end(), variants.begin(), variants.end());
    auto steps = RunChain(args);
    CheckConsistent(steps, true);
    const GroundTruthStep* shadow = FindStep(steps, "shadow");
    ASSERT_NE(shadow, nullptr);
    EXPECT_EQ(shadow->status, "ran");
    EXPECT_EQ(shadow->variant, variants[1].substr(7));
    std::filesystem::remove(dir_ + "/gt.jsonl");
  }
}

TEST_F(ChainTest, UnavailableVariantIsRecordedAsSkippedNotFaked) {
  if (access("/sbin/apk", X_OK) == 0 || access("/usr/bin/apk", X_OK) == 0) {
    GTEST_SKIP() << "apk exists here";
  }
  auto steps = RunChain({"--speed", "burst", "--steps", "package-install", "--variant", "apk"});
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].status, "skipped");
  EXPECT_EQ(steps[0].pid, 0);
  EXPECT_NE(steps[0].note.find("apk"), std::string::npos);
  EXPECT_FALSE(PackageInstalled(kTestPackage));
}

TEST_F(ChainTest, ShellOnPipesStillParentsAndEndsEveryStep) {
  // kubectl exec without -t: no terminal, no job control, so held steps (and the find
  // loop's children) are ended through their descendants instead of a process group.
  auto steps = RunChain({"--speed", "blog", "--hold-ms", "200", "--gap-ms", "10", "--shell-tty",
                         "pipe", "--steps", "shell,shadow,aws-creds,new-binary"});
  CheckConsistent(steps, true);
  const GroundTruthStep* shell = FindStep(steps, "shell");
  ASSERT_NE(shell, nullptr);
  EXPECT_NE(shell->note.find("pipes"), std::string::npos) << shell->note;
  for (const char* name : {"shadow", "aws-creds", "new-binary"}) {
    const GroundTruthStep* s = FindStep(steps, name);
    ASSERT_NE(s, nullptr);
    EXPECT_NE(s->note.find("killed after hold"), std::string::npos) << name << ": " << s->note;
  }
  // Nothing of the find loop outlived its step (a zombie waiting for init counts as gone).
  for (const auto& [pid, seen] : seen_) {
    bool alive = true;
    for (int i = 0; i < 50 && alive; ++i) {
      std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
      size_t close = stat.rfind(')');
      alive = close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
      // A recycled pid running something else is not a survivor.
      std::string cmd = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
      alive = alive && cmd.substr(0, cmd.find('\0')) == seen.cmdline.front();
      if (alive) usleep(20'000);
    }
    EXPECT_FALSE(alive) << "pid " << pid << " (" << seen.cmdline.front() << ") survived";
  }
}

TEST_F(ChainTest, WithoutBashTheShellIsSkippedAndStepsRunDirectly) {
  // A workload with cat but no bash (a busybox guest, say).
  const std::string bin = dir_ + "/pathbin";
  std::filesystem::create_directories(bin);
  std::filesystem::create_symlink("/bin/cat", bin + "/cat");
  auto steps = RunChain({"--speed", "fast", "--steps", "shell,shadow"}, 0, bin);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].step, "shell");
  EXPECT_EQ(steps[0].status, "skipped");
  EXPECT_NE(steps[0].note.find("bash"), std::string::npos);
  EXPECT_EQ(steps[1].step, "shadow");
  EXPECT_EQ(steps[1].status, "ran");
  EXPECT_EQ(steps[1].ppid, sim_pid_);
  EXPECT_GE(steps[1].hold_ms, 100);
}

TEST_F(ChainTest, AReverseShellThatNeverConnectsFailsTheRunQuickly) {
  // `ncat` here is /bin/true: it runs and exits without connecting. The run must say so
  // (listener line skipped, exit 1) instead of waiting out the listener timeout.
  const std::string bin = dir_ + "/pathbin";
  std::filesystem::create_directories(bin);
  std::filesystem::create_symlink("/bin/true", bin + "/ncat");
  auto steps = RunChain(
      {"--speed", "fast", "--steps", "reverse-shell", "--listener-timeout", "120"}, 1, bin);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].step, "reverse-shell");
  EXPECT_EQ(steps[1].step, "listener");
  EXPECT_EQ(steps[1].status, "skipped");
  EXPECT_NE(steps[1].note.find("without connecting"), std::string::npos) << steps[1].note;
  // Finished long before the 120 s listener timeout (not a timing assertion on speed: the
  // alternative is waiting the full timeout).
  EXPECT_LT(steps[1].end_mono_ns - steps[0].start_mono_ns, 60'000'000'000);
}

TEST_F(ChainTest, RepeatRunsTheChainAgainWithAFreshShell) {
  auto steps = RunChain({"--speed", "burst", "--repeat", "2", "--steps", "shell,shadow"});
  CheckConsistent(steps, true);
  const GroundTruthStep* a = FindStep(steps, "shell", 0);
  const GroundTruthStep* b = FindStep(steps, "shell", 1);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->pid, b->pid);
  EXPECT_EQ(FindStep(steps, "shadow", 1)->ppid, b->pid);
}

TEST_F(ChainTest, WithoutCleanupThePackageStaysAndTheTestRestoresIt) {
  auto steps = RunChain({"--speed", "burst", "--steps", "package-install"});
  (void)steps;
  // RunChain always passes --cleanup; run again without it through the binary directly.
  Exec e = Start({"run", "--speed", "burst", "--steps", "package-install", "--package",
                  kTestPackage, "--deb", deb_, "--ground-truth", dir_ + "/gt2.jsonl"},
                 dir_, "nocleanup");
  EXPECT_EQ(Wait(e), 0) << ReadFile(e.err_path);
  EXPECT_TRUE(PackageInstalled(kTestPackage));
  EXPECT_NE(ReadFile(e.err_path).find("left behind"), std::string::npos);
  PurgePackage(kTestPackage);
  EXPECT_FALSE(PackageInstalled(kTestPackage));
}

}  // namespace
}  // namespace sandwatch::attacksim
