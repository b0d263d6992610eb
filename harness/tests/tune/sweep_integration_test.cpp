// A short real sweep on the host runtime: one sensor (pure polling, P = 1 s),
// real trial processes of 10 ms and 3 s at random phases. The bounds come from
// the model with a wide margin (not a timing test): a process living much
// longer than P is nearly always seen, one living much shorter rarely.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/tune/recommend.h"
#include "sandwatch/harness/tune/sweep.h"
#include "trials.h"

namespace sandwatch::harness::tune {
namespace {

std::string SensorPath() {
  const char* bin = std::getenv("SANDWATCH_BIN_DIR");
  return std::string(bin ? bin : "build/bin") + "/sandwatch-sensor";
}

TEST(Trials, RealProcessesLiveAtLeastTheirLifetime) {
  std::vector<TrialSpec> specs;
  for (int i = 0; i < 6; ++i) specs.push_back({"sw-trial-test-" + std::to_string(i), 50, 0.01 * i});
  auto recs = RunTrials("/bin/sleep", specs, 2, [] { return false; });
  ASSERT_TRUE(recs.ok()) << recs.error().message;
  ASSERT_EQ(recs->size(), 6u);
  for (const auto& r : *recs) {
    EXPECT_TRUE(r.started);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_GE(r.LifetimeMs(), 50.0);  // sleep(1) never returns early
  }
}

TEST(Trials, StopKillsEveryLiveTrial) {
  std::vector<TrialSpec> specs = {{"sw-trial-test-long", 600000, 0}};
  int polls = 0;
  auto recs = RunTrials("/bin/sleep", specs, 4, [&polls] { return ++polls > 3; });
  EXPECT_FALSE(recs.ok());
}

TEST(ShortSweep, LongLivedAreSeenShortLivedRarely) {
  if (access(SensorPath().c_str(), X_OK) != 0)
    GTEST_SKIP() << "no sandwatch-sensor at " << SensorPath();
  std::string tmpl = "/tmp/sw-tune-sweep-XXXXXX";
  const std::string out = mkdtemp(tmpl.data());
  SweepOptions o;
  o.out_dir = out + "/results/poll-sweep-test";
  o.sensor_path = SensorPath();
  o.quiet = true;
  o.plan.captures = {"poll"};
  o.plan.intervals_s = {1.0};
  o.plan.lifetimes_ms = {10, 3000};
  o.plan.trials = 20;
  o.plan.trials_for.clear();
  o.plan.window_s = 2;
  o.plan.idle_s = 1;
  auto runner = MakeProcessRunner();
  auto res = RunSweep(o, *runner);
  ASSERT_TRUE(res.ok()) << res.error().message;
  ASSERT_EQ(res->cells.size(), 2u);
  for (const auto& c : res->cells) {
    EXPECT_EQ(c.trials, 20);
    EXPECT_EQ(c.capture, "poll");
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
    EXPECT_TRUE(std::filesystem::exists(o.out_dir + "/" + f)) << f;
  }
  // 20 of 20 seen bounds the miss at 16 % (Wilson 95 % upper bound), so ask for 20 %.
  auto rec = Recommend(res->cells, TuneQuery{0.2, 3000, 1.0}, o.out_dir);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->capture.value_or(""), "poll");

  // A rerun with the same folder resumes: nothing left to measure.
  auto again = RunSweep(o, *runner);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->pairs_run, 0);
  EXPECT_EQ(again->pairs_resumed, 1);
  EXPECT_EQ(again->cells.size(), 2u);
  std::filesystem::remove_all(out);
}

TEST(ShortSweep, MissingSensorIsAClearError) {
  SweepOptions o;
  o.out_dir = "/tmp/sw-tune-never";
  o.sensor_path = "/nonexistent/sandwatch-sensor";
  auto runner = MakeProcessRunner();
  auto res = RunSweep(o, *runner);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("sandwatch-sensor not found"), std::string::npos);
}

}  // namespace
}  // namespace sandwatch::harness::tune
