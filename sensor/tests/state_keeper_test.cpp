// StateKeeper: first start versus restart, which processes a restart evaluates, events
// tagged with the gap, seq continued, and state that is corrupt, forged or keyed
// differently set aside and reported. Real files; processes described by hand.
#include "sandwatch/sensor/state_keeper.h"

#include <gtest/gtest.h>
#include <time.h>

#include <filesystem>

#include "memory_output.h"
#include "sandwatch/sensor/state_file.h"

namespace sandwatch::sensor {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    std::string tmpl = "/tmp/sw-keeper-test-XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

ProcessInfo Proc(int pid, uint64_t ticks, const std::string& exe) {
  ProcessInfo p;
  p.key = {pid, ticks};
  p.start_time_ns = ticks * 10000000;
  p.exe = exe;
  p.name = exe.substr(exe.rfind('/') + 1);
  return p;
}

Event EventFor(const ProcessInfo& p, uint64_t seq) {
  Event e;
  e.seq = seq;
  e.rule = "shadow_file_access";
  ProcessRef ref;
  ref.pid = p.key.pid;
  ref.start_time_ns = p.start_time_ns;
  e.process = ref;
  return e;
}

std::unique_ptr<StateKeeper> OpenKeeper(const std::string& dir, const std::string& key = "",
                                        bool inspect = false) {
  StateOptions o;
  o.dir = dir;
  o.key = key;
  auto k = StateKeeper::Open(o, inspect);
  EXPECT_TRUE(k.ok());
  return std::move(k.value());
}

// A first run that knew `procs` and published `events` events, then died (no SaveNow).
void FirstRun(const std::string& dir, const std::vector<ProcessInfo>& procs, uint64_t events,
              const std::string& key = "") {
  auto k = OpenKeeper(dir, key);
  ASSERT_EQ(k->start(), StateKeeper::Start::kFirst) << k->why();
  EXPECT_EQ(k->ResolveSensorId("", "sensor-one"), "sensor-one");
  for (const auto& p : procs) {
    EXPECT_FALSE(k->EvaluateAtStartup(p));  // a first start evaluates nothing extra
    k->Seen(p);
  }
  k->ScanDone();
  auto out = k->WrapOutput(std::make_unique<testing::MemoryOutput>());
  for (uint64_t s = 1; s <= events; ++s) out->Emit(EventFor(procs.front(), s));
}

bool HasSetAside(const std::string& dir, const std::string& name) {
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().rfind(name + ".bad-", 0) == 0) return true;
  }
  return false;
}

TEST(StateKeeper, WithoutADirectoryEveryStartIsAFirstStart) {
  auto k = OpenKeeper("");
  EXPECT_EQ(k->start(), StateKeeper::Start::kFirst);
  EXPECT_NE(k->why().find("nothing survives"), std::string::npos);
  EXPECT_EQ(k->ResolveSensorId("", "fresh"), "fresh");
  EXPECT_FALSE(k->EvaluateAtStartup(Proc(10, 1, "/bin/sh")));
}

TEST(StateKeeper, ARestartEvaluatesOnlyWhatItDidNotKnowAndTagsIt) {
  TempDir dir;
  ProcessInfo app = Proc(100, 50, "/usr/bin/sleep");
  ProcessInfo shell = Proc(101, 60, "/bin/sh");
  FirstRun(dir.path, {app, shell}, 3);

  auto k = OpenKeeper(dir.path);
  ASSERT_EQ(k->start(), StateKeeper::Start::kRestart) << k->why();
  EXPECT_NE(k->why().find("2 processes known"), std::string::npos) << k->why();
  EXPECT_EQ(k->ResolveSensorId("", "sensor-two"), "sensor-one");
  EXPECT_EQ(k->continue_seq(), 3u);

  EXPECT_FALSE(k->EvaluateAtStartup(app));
  ProcessInfo dropped = Proc(200, 70, "/tmp/dropped");
  EXPECT_TRUE(k->EvaluateAtStartup(dropped));
  ProcessInfo reused = Proc(100, 80, "/usr/bin/sleep");  // same pid, later start
  EXPECT_TRUE(k->EvaluateAtStartup(reused));
  ProcessInfo execd = Proc(101, 60, "/usr/bin/ncat");  // the shell exec'd meanwhile
  EXPECT_TRUE(k->EvaluateAtStartup(execd));

  auto mem = std::make_unique<testing::MemoryOutput>();
  auto* seen = mem.get();
  auto out = k->WrapOutput(std::move(mem));
  out->Emit(EventFor(dropped, 4));
  out->Emit(EventFor(app, 5));
  ASSERT_EQ(seen->events.size(), 2u);
  EXPECT_EQ(seen->events[0].fields["found_after_restart"], "true");
  EXPECT_FALSE(seen->events[0].fields["gap_s"].empty());
  EXPECT_EQ(seen->events[1].fields.count("found_after_restart"), 0u);
  std::map<std::string, int64_t> c;
  k->AddCounters(&c);
  EXPECT_EQ(c["found_after_restart"], 3);
  EXPECT_EQ(c["restarts"], 1);
  EXPECT_EQ(c["state_lost"], 0);
}

TEST(StateKeeper, SeqIsWrittenAheadSoARestartNeverReusesIt) {
  TempDir dir;
  FirstRun(dir.path, {Proc(100, 50, "/usr/bin/sleep")}, 9);
  auto k = OpenKeeper(dir.path);
  EXPECT_EQ(k->ResolveSensorId("", "x"), "sensor-one");
  EXPECT_EQ(k->continue_seq(), 9u);
  // An explicitly different id is a different sensor instance: seq starts over.
  auto k2 = OpenKeeper(dir.path);
  EXPECT_EQ(k2->ResolveSensorId("other", "x"), "other");
  EXPECT_EQ(k2->continue_seq(), 0u);
  EXPECT_NE(k2->why().find("SENSOR_ID differs"), std::string::npos);
}

TEST(StateKeeper, ACorruptStateFileIsSetAsideAndTheRestartReported) {
  TempDir dir;
  FirstRun(dir.path, {Proc(100, 50, "/usr/bin/sleep")}, 1);
  ASSERT_TRUE(state::WriteFileAtomic(dir.path, "state.v1", "sandwatch.sensor-state/v1\ngarb").ok());
  auto k = OpenKeeper(dir.path);
  EXPECT_EQ(k->start(), StateKeeper::Start::kRestartStateLost);
  EXPECT_NE(k->why().find("state.v1"), std::string::npos) << k->why();
  EXPECT_NE(k->why().find("set aside"), std::string::npos) << k->why();
  EXPECT_TRUE(HasSetAside(dir.path, "state.v1"));
  EXPECT_FALSE(fs::exists(dir.path + "/state.v1"));
  // Documented behaviour without state: what runs now is the start-up state.
  EXPECT_FALSE(k->EvaluateAtStartup(Proc(300, 90, "/tmp/x")));
  std::map<std::string, int64_t> c;
  k->AddCounters(&c);
  EXPECT_EQ(c["state_lost"], 1);
}

TEST(StateKeeper, InspectingForPrintConfigChangesNothing) {
  TempDir dir;
  FirstRun(dir.path, {Proc(100, 50, "/usr/bin/sleep")}, 1);
  ASSERT_TRUE(state::WriteFileAtomic(dir.path, "state.v1", "junk").ok());
  auto k = OpenKeeper(dir.path, "", /*inspect=*/true);
  EXPECT_EQ(k->start(), StateKeeper::Start::kRestartStateLost);
  EXPECT_TRUE(fs::exists(dir.path + "/state.v1"));
  EXPECT_FALSE(HasSetAside(dir.path, "state.v1"));
}

TEST(StateKeeper, AStateThatMarksAProcessKnownBeforeItStartedIsRefused) {
  TempDir dir;
  FirstRun(dir.path, {Proc(100, 50, "/usr/bin/sleep")}, 1);
  // A forger with write access but no key adds their own pid, started later.
  auto body = state::Unseal(*state::ReadOwnFile(dir.path + "/state.v1", 1 << 20), "");
  ASSERT_TRUE(body.ok());
  auto st = state::DecodeState(*body);
  ASSERT_TRUE(st.ok());
  timespec now{};
  clock_gettime(CLOCK_BOOTTIME, &now);
  uint64_t later_ticks = static_cast<uint64_t>(now.tv_sec + 3600) * 100;
  st->processes.push_back({4242, later_ticks, 0});
  ASSERT_TRUE(
      state::WriteFileAtomic(dir.path, "state.v1", state::Seal(state::EncodeState(*st), "")).ok());
  auto k = OpenKeeper(dir.path);
  EXPECT_EQ(k->start(), StateKeeper::Start::kRestartStateLost);
  EXPECT_NE(k->why().find("known before it started"), std::string::npos) << k->why();
}

TEST(StateKeeper, AStateSealedWithAnotherKeyIsNotTrusted) {
  TempDir dir;
  FirstRun(dir.path, {Proc(100, 50, "/usr/bin/sleep")}, 1, "key-one");
  EXPECT_EQ(OpenKeeper(dir.path, "key-one")->start(), StateKeeper::Start::kRestart);
  auto k = OpenKeeper(dir.path, "key-two");
  EXPECT_EQ(k->start(), StateKeeper::Start::kRestartStateLost);
  EXPECT_NE(k->why().find("MAC does not match"), std::string::npos) << k->why();
}

TEST(StateKeeper, TheFirstBaselineIsKeptAcrossRestarts) {
  TempDir dir;
  int builds = 0;
  auto build = [&]() -> Result<procfs::Baseline> {
    ++builds;
    std::unordered_map<std::string, procfs::FileStat> files;
    files["/usr/bin/ls"] = procfs::FileStat{1, 2, 3, 4, 0100755};
    if (builds > 1) files["/usr/bin/dropped"] = procfs::FileStat{1, 9, 3, 4, 0100755};
    return procfs::Baseline::FromEntries("/proc/7/root", files, false);
  };
  std::string how;
  {
    auto k = OpenKeeper(dir.path);
    auto b = k->LoadOrBuildBaseline("/proc/7/root", build, &how);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(how.rfind("built", 0), 0u) << how;
  }
  auto k = OpenKeeper(dir.path);
  auto b = k->LoadOrBuildBaseline("/proc/7/root", build, &how);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(builds, 1);
  EXPECT_EQ(how.rfind("restored", 0), 0u) << how;
  EXPECT_FALSE(b->Contains("/usr/bin/dropped"));
  EXPECT_TRUE(b->Contains("/usr/bin/ls"));
  // Another workload root: the saved baseline does not apply.
  auto other = k->LoadOrBuildBaseline("/proc/9/root", build, &how);
  EXPECT_EQ(builds, 2);
  EXPECT_NE(how.find("is for /proc/7/root"), std::string::npos) << how;
}

TEST(StateKeeper, ABaselineListingAFileWrittenAfterItWasTakenIsSetAside) {
  TempDir dir;
  std::unordered_map<std::string, procfs::FileStat> files;
  files["/usr/bin/ls"] = procfs::FileStat{1, 2, 3, 4, 0100755};
  auto build = [&]() -> Result<procfs::Baseline> {
    return procfs::Baseline::FromEntries("/", files, false);
  };
  std::string how;
  ASSERT_TRUE(OpenKeeper(dir.path)->LoadOrBuildBaseline("/", build, &how).ok());
  // The attacker plants their binary, written "now + 1 h", into the saved baseline.
  auto body = state::Unseal(*state::ReadOwnFile(dir.path + "/baseline.v1", 1 << 20), "");
  ASSERT_TRUE(body.ok());
  auto saved = state::DecodeBaseline(*body);
  ASSERT_TRUE(saved.ok());
  auto planted = saved->baseline.entries();
  planted["/usr/bin/implant"] =
      procfs::FileStat{1, 5, 6, saved->built_wall_ns + 3'600'000'000'000, 0100755};
  saved->baseline = procfs::Baseline::FromEntries("/", planted, false);
  ASSERT_TRUE(state::WriteFileAtomic(dir.path, "baseline.v1",
                                     state::Seal(state::EncodeBaseline(*saved), ""))
                  .ok());
  auto b = OpenKeeper(dir.path)->LoadOrBuildBaseline("/", build, &how);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->Contains("/usr/bin/implant"));
  EXPECT_NE(how.find("modified after the baseline was taken"), std::string::npos) << how;
  EXPECT_TRUE(HasSetAside(dir.path, "baseline.v1"));
}

}  // namespace
}  // namespace sandwatch::sensor
