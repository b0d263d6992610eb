// A short real sweep on the host runtime: one sensor (pure polling, P = 1 s),
// real trial processes of 10 ms and 3 s at random phases. The bounds come from
// the model with a wide margin (not a timing test): a process living much
// longer than P is nearly always seen, one living much shorter rarely.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>

#include "sandwatch/core/files.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/run.h"
#include "sandwatch/harness/tune/cell.h"
#include "sandwatch/harness/tune/recommend.h"
#include "trials.h"

namespace sandwatch::harness::tune {
namespace {

std::string SensorPath() {
  const char* bin = std::getenv("SANDWATCH_BIN_DIR");
  return std::string(bin ? bin : "build/bin") + "/sandwatch-sensor";
}

// The static and dynamic trial binaries, built once for this test binary and removed
// when it exits.
const TrialBinaries& Built() {
  struct BuiltDir {
    std::string dir;
    TrialBinaries binaries;
    ~BuiltDir() { std::filesystem::remove_all(dir); }
  };
  static const BuiltDir built = [] {
    std::string tmpl = "/tmp/sw-tune-trials-XXXXXX";
    const std::string dir = mkdtemp(tmpl.data());
    auto b = BuildTrialBinaries(dir);
    EXPECT_TRUE(b.ok()) << b.error().message;
    return BuiltDir{dir, b.ok() ? *b : TrialBinaries{}};  // no copy: no early removal
  }();
  return built.binaries;
}

TEST(Trials, RealProcessesLiveAtLeastTheirLifetime) {
  auto dropped = DropTrialBinaries(Built(), "/tmp");
  ASSERT_TRUE(dropped.ok()) << dropped.error().message;
  std::vector<TrialSpec> specs;
  specs.reserve(6);
  for (int i = 0; i < 6; ++i) {
    specs.push_back({"sw-trial-test-" + std::to_string(i), 50, 0.01 * i,
                     i % 2 ? dropped->dynamic_path : dropped->static_path});
  }
  auto recs = RunTrials(specs, 2, SystemClock(), [] { return false; });
  RemoveDroppedBinaries(*dropped);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(dropped->static_path).parent_path()));
  ASSERT_TRUE(recs.ok()) << recs.error().message;
  ASSERT_EQ(recs->size(), 6u);
  for (const auto& r : *recs) {
    EXPECT_TRUE(r.started);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_GE(r.LifetimeMs(), 50.0);  // nanosleep never returns early
  }
}

TEST(Trials, StaticBuildOpensNoLibraries) {
  // The point of the static binary: its ELF has no interpreter to load.
  std::ifstream in(Built().static_path, std::ios::binary);
  const std::string elf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(elf.find("/lib64/ld-linux"), std::string::npos);
  std::ifstream dyn(Built().dynamic_path, std::ios::binary);
  const std::string delf((std::istreambuf_iterator<char>(dyn)), std::istreambuf_iterator<char>());
  EXPECT_NE(delf.find("ld-linux"), std::string::npos);
}

TEST(Trials, StopKillsEveryLiveTrial) {
  std::vector<TrialSpec> specs = {{"sw-trial-test-long", 600000, 0, Built().static_path}};
  int polls = 0;
  auto recs = RunTrials(specs, 4, SystemClock(), [&polls] { return ++polls > 3; });
  EXPECT_FALSE(recs.ok());
}

// A sweep of one pair (P = 1 s) into a fresh results folder under /tmp, removed
// afterwards, run by the sweep kind as `run` runs it. Skipped when the sensor is not
// built.
class ShortSweep : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(SensorPath().c_str(), X_OK) != 0) {
      GTEST_SKIP() << "no sandwatch-sensor at " << SensorPath();
    }
    std::string tmpl = "/tmp/sw-tune-sweep-XXXXXX";
    root_ = mkdtemp(tmpl.data());
    o_.scenario_path = "short-sweep.yaml";
    o_.out_dir = root_ + "/results/poll-sweep-test";
    o_.sensor_path = SensorPath();
    o_.quiet = true;
  }
  void TearDown() override {
    if (!root_.empty()) std::filesystem::remove_all(root_);
  }
  // `fields` of the scenario's sweep: map, at P = 1 s.
  Result<RunOutcome> Sweep(const std::string& fields) {
    const std::string text =
        "kind: sweep\nname: poll-sweep-test\nsweep: {poll_intervals_s: [1], " + fields + "}\n";
    BackendRegistry none;
    return SweepKind().Run(KindRun{o_, text, none, *runner_, SystemClock()});
  }
  std::string Environment() const {
    return ReadFileToString(o_.out_dir + "/environment.json").value_or("");
  }

  std::string root_;
  RunOptions o_;
  std::unique_ptr<CommandRunner> runner_ = MakeProcessRunner();
};

TEST_F(ShortSweep, LongLivedAreSeenShortLivedRarely) {
  const std::string fields =
      "captures: [poll], vantages: [privileged], lifetimes_ms: [10, 3000], trials: 20, "
      "trials_for_lifetime: {}, window_s: 2, idle_s: 1";
  auto res = Sweep(fields);
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->out_dir, o_.out_dir);
  auto cells = ReadCells(o_.out_dir + "/cells.jsonl");
  ASSERT_TRUE(cells.ok()) << cells.error().message;
  // `run` prints the answer for the default query from the folder it wrote.
  auto answer = Recommend(*cells, TuneQuery{}, "results/poll-sweep-test");
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(res->terminal, answer->sentence + "\n");
  ASSERT_EQ(cells->size(), 4u);  // 2 lifetimes x static and dynamic
  for (const auto& c : *cells) {
    EXPECT_EQ(c.trials, 20);
    EXPECT_EQ(c.capture, "poll");
    EXPECT_TRUE(c.binary == "static" || c.binary == "dynamic") << c.binary;
    if (c.lifetime_ms == 10) {
      // Model: (L + s)/P is a few percent; allow up to 35 %.
      EXPECT_LE(c.Rate().p, 0.35) << c.Label() << " model " << c.model;
      EXPECT_LT(c.model, 0.35);
    } else {
      // L = 3 P: the model says 1; allow down to 80 %.
      EXPECT_GE(c.Rate().p, 0.80) << c.Label();
      EXPECT_EQ(c.model, 1.0);
      ASSERT_TRUE(c.latency_p50_ms.has_value());
    }
    EXPECT_GT(c.rss_kib, 0);
  }
  for (const char* f :
       {"cells.jsonl", "ground-truth.jsonl", "environment.json", "summary.json", "report.md",
        "report.html", "miss-poll.svg", "heatmap-poll.svg", "cpu.svg"}) {
    EXPECT_TRUE(std::filesystem::exists(o_.out_dir + "/" + f)) << f;
  }
  // 20 of 20 seen bounds the miss at 16 % (Wilson 95 % upper bound), so ask for 20 %.
  auto rec = Recommend(*cells, TuneQuery{0.2, 3000, 1.0}, o_.out_dir);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->capture.value_or(""), "poll");

  // A rerun with the same folder resumes: nothing left to measure, and environment.json
  // lists both runs.
  auto again = Sweep(fields);
  ASSERT_TRUE(again.ok()) << again.error().message;
  const auto env = nlohmann::json::parse(Environment());
  ASSERT_EQ(env["runs"].size(), 2u);
  EXPECT_EQ(env["runs"][1]["pairs_run"], 0);
  EXPECT_EQ(env["runs"][1]["pairs_resumed"], 1);
  auto kept = ReadCells(o_.out_dir + "/cells.jsonl");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->size(), 4u);
}

TEST_F(ShortSweep, UnprivilegedVantageRefusesFanotify) {
  if (geteuid() != 0) GTEST_SKIP() << "dropping the capability bounding set needs root";
  if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "setpriv(1) missing";
  auto res = Sweep("captures: [fanotify], vantages: [unprivileged]");
  ASSERT_FALSE(res.ok());  // nothing measurable: fanotify needs CAP_SYS_ADMIN
  const std::string text = Environment();
  EXPECT_NE(text.find("fanotify (unprivileged)"), std::string::npos) << text;
  EXPECT_NE(text.find("CAP_SYS_ADMIN"), std::string::npos) << text;
}

TEST(SweepErrors, MissingSensorIsAClearError) {
  std::string tmpl = "/tmp/sw-tune-never-XXXXXX";
  const std::string root = mkdtemp(tmpl.data());
  RunOptions o;
  o.scenario_path = "t.yaml";
  o.out_dir = root + "/out";
  o.sensor_path = "/nonexistent/sandwatch-sensor";
  auto runner = MakeProcessRunner();
  BackendRegistry none;
  auto res = SweepKind().Run(KindRun{o, "kind: sweep\nsweep: {}\n", none, *runner, SystemClock()});
  std::filesystem::remove_all(root);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("sandwatch-sensor not found"), std::string::npos);
}

}  // namespace
}  // namespace sandwatch::harness::tune
