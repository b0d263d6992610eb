#include "sandwatch/harness/tune/recommend.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "fixture_cells.h"

namespace sandwatch::harness::tune {
namespace {

using testing::MakeCell;
using testing::ModelPollSweep;

const std::vector<double> kIntervals = {0.1, 0.25, 0.5, 1, 2, 5};
const std::vector<int64_t> kLifetimes = {1, 10, 100, 500, 1000, 2000, 5000};

TEST(Recommend, NoCellsIsAnError) {
  auto r = Recommend({}, TuneQuery{}, "results/x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no measured sweep cells"), std::string::npos);
  // Cells with zero trials count as none.
  auto r2 = Recommend({MakeCell("poll", 1, 100, 0, 0, 0.001)}, TuneQuery{}, "f");
  EXPECT_FALSE(r2.ok());
}

TEST(Recommend, RejectsQueriesOutsideTheirDomain) {
  const auto cells = ModelPollSweep(kIntervals, kLifetimes);
  EXPECT_FALSE(Recommend(cells, {1.0, 500, 0.01}, "f").ok());
  EXPECT_FALSE(Recommend(cells, {-0.1, 500, 0.01}, "f").ok());
  EXPECT_FALSE(Recommend(cells, {0.05, 0, 0.01}, "f").ok());
  EXPECT_FALSE(Recommend(cells, {0.05, 500, 0}, "f").ok());
}

TEST(Recommend, InterpolatesBetweenMeasuredIntervals) {
  // Many trials: the Wilson bound hugs the measurement, so the model decides.
  const auto cells = ModelPollSweep(kIntervals, kLifetimes, 100000);
  auto r = Recommend(cells, {0.05, 500, 0.01}, "results/poll-sweep-test");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->poll_interval_s.has_value());
  // The model says P <= (0.5 + 0.002) / 0.95 = 0.528 s.
  EXPECT_GT(*r->poll_interval_s, 0.5);
  EXPECT_LE(*r->poll_interval_s, 0.529);
  EXPECT_TRUE(r->interpolated);
  EXPECT_EQ(r->capture.value_or(""), "poll");
  EXPECT_LE(r->expected_miss, r->miss_upper);
  EXPECT_LE(r->miss_upper, 0.05 + 1e-9);
  EXPECT_NEAR(r->cpu_fraction, 0.002 / *r->poll_interval_s, 2e-4);
  EXPECT_TRUE(r->met);
  // It rests on the two measured intervals around it.
  ASSERT_GE(r->basis.size(), 2u);
  EXPECT_EQ(r->basis.front().poll_interval_s, 0.5);
  EXPECT_EQ(r->basis.back().poll_interval_s, 1.0);
  EXPECT_NE(r->sentence.find("POLL_INTERVAL=0.52"), std::string::npos) << r->sentence;
}

TEST(Recommend, LandsOnAMeasuredCellWhenOnlyItsBoundFits) {
  // 1000/1000 at P=1 s, L=1 s: the miss's upper bound is 0.38 %, under a 0.4 % target;
  // any longer P adds model miss on top of it.
  const auto cells = ModelPollSweep(kIntervals, kLifetimes, 1000);
  auto r = Recommend(cells, {0.004, 1000, 0.05}, "f");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->poll_interval_s.has_value());
  EXPECT_DOUBLE_EQ(*r->poll_interval_s, 1.0);
  EXPECT_FALSE(r->interpolated);
  EXPECT_EQ(r->expected_miss, 0.0);
  EXPECT_NEAR(r->miss_upper, 1.0 - Wilson(1000, 1000).lo, 1e-12);
}

TEST(Recommend, TheTargetIsHeldToTheWilsonUpperBoundNotThePoint) {
  // No miss in 20 trials: the point says 0 %, the interval allows up to 16 %.
  std::vector<SweepCell> few = {MakeCell("poll", 1, 2000, 20, 20, 0.002),
                                MakeCell("poll", 2, 2000, 20, 20, 0.001)};
  auto r = Recommend(few, {0.05, 2000, 0.01}, "f");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->met) << r->sentence;
  EXPECT_EQ(r->expected_miss, 0.0);
  EXPECT_GT(r->miss_upper, 0.15);
  EXPECT_NE(r->sentence.find("95% upper bound 16%"), std::string::npos) << r->sentence;
  // The same measurement with 100 trials bounds the miss at 3.7 %: met.
  std::vector<SweepCell> more = {MakeCell("poll", 1, 2000, 100, 100, 0.002),
                                 MakeCell("poll", 2, 2000, 100, 100, 0.001)};
  auto r2 = Recommend(more, {0.05, 2000, 0.01}, "f");
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2->met) << r2->sentence;
  EXPECT_DOUBLE_EQ(r2->poll_interval_s.value_or(0), 2.0);
  // Event-driven cells too: 1 miss in 100 (upper 5.4 %) does not meet 5 %.
  auto r3 = Recommend({MakeCell("fanotify", 2, 10, 100, 99, 0.001)}, {0.05, 10, 0.01}, "f");
  ASSERT_TRUE(r3.ok());
  EXPECT_FALSE(r3->met) << r3->sentence;
}

TEST(Recommend, BudgetExcludesEveryInterval) {
  const auto cells = ModelPollSweep(kIntervals, kLifetimes);
  // The cheapest measured interval costs 0.002/5 = 0.0004 of a core.
  auto r = Recommend(cells, {0.05, 500, 0.0001}, "f");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->met);
  EXPECT_FALSE(r->poll_interval_s.has_value());
  EXPECT_FALSE(r->capture.has_value());
  EXPECT_NE(r->polling_verdict.find("only at P <="), std::string::npos) << r->polling_verdict;
  EXPECT_NE(r->sentence.find("No measured capture source"), std::string::npos);
}

TEST(Recommend, UnreachableTargetFallsBackToTheMostDeployableEventSource) {
  auto cells = ModelPollSweep(kIntervals, kLifetimes);
  for (double p : kIntervals) {
    cells.push_back(MakeCell("inotify", p, 1, 1000, 700, 0.001));    // misses 30 %
    cells.push_back(MakeCell("fanotify", p, 1, 1000, 990, 0.001));   // misses 1 % (<= 1.8 %)
    cells.push_back(MakeCell("netlink", p, 1, 1000, 1000, 0.0005));  // misses none
  }
  auto r = Recommend(cells, {0.05, 1, 0.01}, "f");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->met);
  EXPECT_FALSE(r->poll_interval_s.has_value());
  EXPECT_EQ(r->capture.value_or(""), "fanotify");
  EXPECT_EQ(r->safety_net_poll_interval_s.value_or(0), 5.0);
  EXPECT_NEAR(r->expected_miss, 0.01, 1e-12);
  EXPECT_NE(r->polling_verdict.find("even at P=0.1"), std::string::npos) << r->polling_verdict;
  EXPECT_NE(r->sentence.find("netlink"), std::string::npos) << r->sentence;

  const auto j = RecommendationToJson(*r);
  EXPECT_TRUE(j.at("poll_interval_s").is_null());
  EXPECT_EQ(j.at("capture"), "fanotify");
  EXPECT_EQ(j.at("basis").at("folder"), "f");
  // The poll cell that shows polling cannot, and the measured cell that can.
  ASSERT_EQ(j.at("basis").at("cells").size(), 2u);
  EXPECT_EQ(j["basis"]["cells"][0]["capture"], "poll");
  EXPECT_EQ(j["basis"]["cells"][1]["capture"], "fanotify");
  EXPECT_TRUE(j.contains("expected_miss"));
  EXPECT_TRUE(j.contains("cpu_fraction"));
}

TEST(Recommend, EventRowIsTheLongestMeasuredLifetimeNotAboveTheQuery) {
  std::vector<SweepCell> cells = {
      MakeCell("netlink", 2, 10, 100, 90, 0.001),    // at 10 ms: misses 10 %
      MakeCell("netlink", 2, 100, 100, 100, 0.001),  // at 100 ms: none
  };
  auto r = Recommend(cells, {0.05, 50, 0.01}, "f");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->met);  // 50 ms is judged by the 10 ms row
  auto r2 = Recommend(cells, {0.05, 100, 0.01}, "f");
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2->met);
  EXPECT_EQ(r2->capture.value_or(""), "netlink");
  EXPECT_NE(r2->polling_verdict.find("no poll cells"), std::string::npos);
}

TEST(Estimate, MeasuredCellsWinOverTheModel) {
  std::vector<SweepCell> cells = {
      MakeCell("poll", 1, 10, 50, 0, 0.002),     // 0/N
      MakeCell("poll", 1, 500, 100, 30, 0.002),  // the sensor is slower than the model says
      MakeCell("poll", 1, 2000, 50, 50, 0.002),  // N/N
  };
  EXPECT_DOUBLE_EQ(EstimatePollDetection(cells, 10, 1), 0.0);
  EXPECT_NEAR(EstimatePollDetection(cells, 500, 1), 0.30, 1e-12);
  EXPECT_DOUBLE_EQ(EstimatePollDetection(cells, 2000, 1), 1.0);
  // In between lifetimes the residual is interpolated in log L: below the model.
  const double mid = EstimatePollDetection(cells, 1000, 1);
  EXPECT_LT(mid, 1.0);
  EXPECT_GT(mid, 0.30);
}

TEST(Estimate, FollowsTheModelBetweenCells) {
  const auto cells = ModelPollSweep(kIntervals, kLifetimes);
  EXPECT_NEAR(EstimatePollDetection(cells, 300, 1), 0.302, 0.01);
  EXPECT_NEAR(EstimatePollDetection(cells, 100, 1.5), 0.102 / 1.5, 0.01);
  // CPU is linear in 1/P between measured intervals.
  EXPECT_NEAR(EstimatePollCpu(cells, 1.5), 0.002 / 1.5, 1e-9);
  EXPECT_NEAR(EstimatePollCpu(cells, 5), 0.0004, 1e-12);
}

TEST(Percent, FormatsTheRatesOfARecommendation) {
  const std::vector<std::pair<double, const char*>> cases = {
      {0, "0%"}, {0.05, "5.0%"}, {0.5, "50%"}, {0.0004, "0.04%"}};
  for (const auto& [fraction, text] : cases) EXPECT_EQ(Percent(fraction), text) << fraction;
}

}  // namespace
}  // namespace sandwatch::harness::tune
