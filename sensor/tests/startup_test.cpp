// Start-up steps: a failing step tears down the steps before it, in reverse order,
// with real file descriptors, threads, files and the sensor's own steps.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "sandwatch/sensor/startup_steps.h"

namespace sandwatch::sensor {
namespace {

bool FdOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

size_t ThreadCount() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

// A step that opens a real pipe and closes it on teardown, noting the order.
StartupStep PipeStep(const std::string& name, int* fds, std::vector<std::string>* torn) {
  StartupStep s;
  s.name = name;
  s.run = [fds]() -> Status {
    if (::pipe(fds) != 0) return MakeError("pipe failed", errno);
    return OkStatus();
  };
  s.teardown = [fds, torn, name] {
    ::close(fds[0]);
    ::close(fds[1]);
    torn->push_back(name);
  };
  return s;
}

TEST(StartupSequence, AFailingStepTearsDownTheEarlierOnesInReverse) {
  std::array<int, 2> a = {-1, -1};
  std::array<int, 2> b = {-1, -1};
  std::array<int, 2> c = {-1, -1};
  std::vector<std::string> torn;
  StartupSequence seq;
  seq.Add(PipeStep("first", a.data(), &torn));
  seq.Add(PipeStep("second", b.data(), &torn));
  StartupStep failing = PipeStep("third", c.data(), &torn);
  failing.run = [] { return Status(MakeError("--thing: not usable")); };
  failing.exit_code = 2;
  seq.Add(failing);
  seq.Add(PipeStep("never", c.data(), &torn));

  auto st = seq.RunAll();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "--thing: not usable (start-up step \"third\")");
  EXPECT_EQ(seq.failed_step(), "third");
  EXPECT_EQ(seq.exit_code(), 2);
  EXPECT_EQ(torn, (std::vector<std::string>{"second", "first"}));
  EXPECT_FALSE(FdOpen(a[0]) || FdOpen(a[1]) || FdOpen(b[0]) || FdOpen(b[1]));
  EXPECT_EQ(c[0], -1) << "the step after the failing one never ran";
  EXPECT_TRUE(seq.Running().empty());
  seq.TearDown();  // idempotent: nothing runs twice
  EXPECT_EQ(torn.size(), 2u);
}

TEST(StartupSequence, AThrowingStepTearsDownAndRethrows) {
  std::array<int, 2> a = {-1, -1};
  std::vector<std::string> torn;
  StartupSequence seq;
  seq.Add(PipeStep("first", a.data(), &torn));
  seq.Add({"throws", []() -> Status { throw std::runtime_error("boom"); }, nullptr, 1});
  EXPECT_THROW((void)seq.RunAll(), std::runtime_error);
  EXPECT_EQ(seq.failed_step(), "throws");
  EXPECT_EQ(torn, (std::vector<std::string>{"first"}));
  EXPECT_FALSE(FdOpen(a[0]));
}

TEST(StartupSequence, TeardownRunsWhenTheSequenceGoesOutOfScope) {
  std::array<int, 2> a = {-1, -1};
  std::array<int, 2> b = {-1, -1};
  std::vector<std::string> torn;
  try {
    StartupSequence seq;
    seq.Add(PipeStep("first", a.data(), &torn));
    seq.Add(PipeStep("second", b.data(), &torn));
    ASSERT_TRUE(seq.RunAll().ok());
    EXPECT_EQ(seq.Running(), (std::vector<std::string>{"first", "second"}));
    EXPECT_TRUE(FdOpen(a[0]) && FdOpen(b[1]));
    throw std::runtime_error("the main loop failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(torn, (std::vector<std::string>{"second", "first"}));
  EXPECT_FALSE(FdOpen(a[0]) || FdOpen(b[1]));
}

// The sensor's real steps on this machine's /proc, with a file output and a state dir.
class SensorStartupTest : public ::testing::Test {
 protected:
  SensorStartupTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("sw-startup-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::create_directories(dir_ / "root");
    config_.capture = "poll";
    config_.mode = "node";
    config_.poll_interval_s = 0.05;
    config_.heartbeat_interval_s = 3600;
    config_.workload_root = (dir_ / "root").string();  // a tiny baseline
    config_.output = "file:" + (dir_ / "out.jsonl").string();
    config_.state_dir = (dir_ / "state").string();
    config_.log_level = "warn";
  }
  ~SensorStartupTest() override { std::filesystem::remove_all(dir_); }

  std::vector<nlohmann::json> Lines(const std::string& schema) const {
    std::vector<nlohmann::json> out;
    std::ifstream in(dir_ / "out.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("schema", "") == schema) out.push_back(j);
    }
    return out;
  }
  std::vector<nlohmann::json> Heartbeats() const { return Lines("sandwatch.heartbeat/v1"); }

  static StartupStep Failing(const std::string& name) {
    return {name, [] { return Status(MakeError("refused")); }, nullptr, 1};
  }

  std::filesystem::path dir_;
  SensorConfig config_;
};

TEST_F(SensorStartupTest, AFailureAfterEveryStepStopsThreadsSendsTheLastHeartbeatAndSaves) {
  const size_t threads_before = ThreadCount();
  SensorRuntime rt(config_, &SystemClock());
  auto steps = SensorStartupSteps(&rt);
  steps.push_back(Failing("after_start"));
  StartupSequence seq(std::move(steps));
  auto st = seq.RunAll();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("start-up step \"after_start\""), std::string::npos);
  ASSERT_TRUE(rt.pipeline && !rt.started.empty()) << "the earlier steps ran";
  // The poll source's thread and the pipeline's worker are joined.
  EXPECT_EQ(ThreadCount(), threads_before);
  // The first heartbeat (step "heartbeats") and the final one (at teardown), flushed.
  auto hbs = Heartbeats();
  ASSERT_EQ(hbs.size(), 2u);
  EXPECT_GE(hbs.back()["counters"]["scans"].get<int64_t>(), 1);
  EXPECT_TRUE(hbs.back()["counters"].contains("observations"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "state" / "state.v1")) << "state saved";
}

// An observation still queued when the sensor stops is processed by the pipeline's drain;
// the final heartbeat, sent after the drain, knows the event it produced.
TEST_F(SensorStartupTest, TheLastHeartbeatCountsWhatThePipelineDrainedAtStop) {
  SensorRuntime rt(config_, &SystemClock());
  std::vector<std::string> names;
  for (const auto& s : SensorStartupSteps(&rt)) names.push_back(s.name);
  auto at = [&](const char* n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
  EXPECT_LT(at("output"), at("final_heartbeat"));
  EXPECT_LT(at("final_heartbeat"), at("pipeline")) << "torn down after the pipeline drained";

  StartupSequence seq(SensorStartupSteps(&rt));
  ASSERT_TRUE(seq.RunAll().ok());
  const pid_t gone = ::fork();  // a pid that has exited: the pipeline uses the early read
  if (gone == 0) ::_exit(0);
  ASSERT_GT(gone, 0);
  ::waitpid(gone, nullptr, 0);
  Observation o;
  o.kind = Observation::Kind::kExec;
  o.method = "netlink";
  o.pid = gone;
  o.kernel_mono_ns = SystemClock().MonoNs();
  EarlyRead early;
  early.name = "cat";
  early.exe = "/usr/bin/cat";
  early.cmdline = {"cat", "/etc/shadow"};
  early.ppid = ::getpid();
  o.early = early;
  rt.pipeline->Push(o);
  seq.TearDown();

  auto events = Lines("sandwatch.event/v1");
  auto hbs = Heartbeats();
  ASSERT_FALSE(events.empty());
  ASSERT_EQ(hbs.size(), 2u);
  EXPECT_TRUE(std::any_of(events.begin(), events.end(),
                          [](const auto& e) { return e["rule"] == "shadow_file_access"; }));
  EXPECT_EQ(hbs.back()["last_seq"], events.back()["seq"]);
  EXPECT_EQ(hbs.back()["counters"]["events_emitted"], events.size());
}

TEST_F(SensorStartupTest, AFailureAfterTheOutputClosesItAndStartsNothing) {
  const size_t threads_before = ThreadCount();
  SensorRuntime rt(config_, &SystemClock());
  auto steps = SensorStartupSteps(&rt);
  auto output = std::find_if(steps.begin(), steps.end(),
                             [](const StartupStep& s) { return s.name == "output"; });
  ASSERT_NE(output, steps.end());
  steps.insert(output + 1, Failing("after_output"));
  StartupSequence seq(std::move(steps));
  ASSERT_FALSE(seq.RunAll().ok());
  EXPECT_EQ(seq.failed_step(), "after_output");
  EXPECT_FALSE(rt.pipeline) << "later steps never ran";
  EXPECT_EQ(ThreadCount(), threads_before);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out.jsonl"));
  EXPECT_TRUE(Heartbeats().empty()) << "no heartbeat before the heartbeats step";
}

TEST_F(SensorStartupTest, ABadCaptureValueNamesTheStepAndExitsTwo) {
  config_.capture = "ebpf";
  SensorRuntime rt(config_, &SystemClock());
  StartupSequence seq(SensorStartupSteps(&rt));
  auto st = seq.RunAll();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(seq.failed_step(), "capture");
  EXPECT_EQ(seq.exit_code(), 2);
  EXPECT_EQ(st.error().message.rfind("--capture: ", 0), 0u) << st.error().message;
  EXPECT_NE(st.error().message.find("(start-up step \"capture\")"), std::string::npos);
}

TEST_F(SensorStartupTest, AMissingRulesFileNamesTheStepAndExitsTwo) {
  config_.rules_file = (dir_ / "no-such-rules.yaml").string();
  SensorRuntime rt(config_, &SystemClock());
  StartupSequence seq(SensorStartupSteps(&rt));
  auto st = seq.RunAll();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(seq.failed_step(), "rules");
  EXPECT_EQ(seq.exit_code(), 2);
  EXPECT_EQ(st.error().message.rfind("--rules: ", 0), 0u) << st.error().message;
}

}  // namespace
}  // namespace sandwatch::sensor
