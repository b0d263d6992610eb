#include "sandwatch/harness/tune/stats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sandwatch::harness::tune {
namespace {

TEST(Wilson, KnownValue) {
  // 8/10 at 95 %: the textbook Wilson interval is [0.490, 0.943].
  const Proportion p = Wilson(8, 10);
  EXPECT_DOUBLE_EQ(p.p, 0.8);
  EXPECT_NEAR(p.lo, 0.4902, 1e-3);
  EXPECT_NEAR(p.hi, 0.9433, 1e-3);
}

TEST(Wilson, ZeroOfN) {
  const Proportion p = Wilson(0, 40);
  EXPECT_EQ(p.p, 0.0);
  EXPECT_EQ(p.lo, 0.0);
  // Upper bound of 0/40 is about 3.84/(40+3.84).
  EXPECT_NEAR(p.hi, 0.0876, 1e-3);
}

TEST(Wilson, NOfN) {
  const Proportion p = Wilson(100, 100);
  EXPECT_EQ(p.p, 1.0);
  EXPECT_EQ(p.hi, 1.0);
  EXPECT_NEAR(p.lo, 0.963, 1e-3);
}

TEST(Wilson, NoTrialsIsWholeRange) {
  const Proportion p = Wilson(0, 0);
  EXPECT_EQ(p.lo, 0.0);
  EXPECT_EQ(p.hi, 1.0);
}

TEST(Wilson, ClampsImpossibleCounts) {
  const Proportion p = Wilson(12, 10);
  EXPECT_EQ(p.p, 1.0);
  EXPECT_EQ(p.hi, 1.0);
}

TEST(Wilson, NarrowsWithMoreTrials) {
  const Proportion a = Wilson(5, 10);
  const Proportion b = Wilson(50, 100);
  EXPECT_LT(b.hi - b.lo, a.hi - a.lo);
  EXPECT_LT(a.lo, 0.5);
  EXPECT_GT(a.hi, 0.5);
}

TEST(PollModel, ShortLifetimeIsRatio) {
  EXPECT_NEAR(PollDetectProbability(0.010, 2.0, 0.0), 0.005, 1e-12);
  EXPECT_NEAR(PollDetectProbability(0.010, 2.0, 0.002), 0.006, 1e-12);
}

TEST(PollModel, SaturatesAtOne) {
  EXPECT_EQ(PollDetectProbability(5.0, 2.0, 0.0), 1.0);
  EXPECT_EQ(PollDetectProbability(1.999, 2.0, 0.002), 1.0);
}

TEST(PollModel, DegenerateInputs) {
  EXPECT_EQ(PollDetectProbability(0.001, 0.0, 0.0), 1.0);
  EXPECT_EQ(PollDetectProbability(-1.0, 1.0, 0.0), 0.0);
  EXPECT_NEAR(PollDetectProbability(0.0, 1.0, 0.01), 0.01, 1e-12);
}

TEST(Disagreement, OutsideTheInterval) {
  const Proportion ci = Wilson(50, 100);
  EXPECT_FALSE(ModelDisagrees(0.5, ci));
  EXPECT_TRUE(ModelDisagrees(0.1, ci));
  EXPECT_TRUE(ModelDisagrees(0.9, ci));
  // 0/N agrees with a model of 0 and 100/100 with a model of 1: the bounds are closed.
  EXPECT_FALSE(ModelDisagrees(0.0, Wilson(0, 100)));
  EXPECT_FALSE(ModelDisagrees(1.0, Wilson(100, 100)));
}

TEST(Percentile, Interpolates) {
  EXPECT_TRUE(std::isnan(Percentile({}, 0.5)));
  EXPECT_EQ(Percentile({7}, 0.99), 7);
  EXPECT_DOUBLE_EQ(Percentile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(Percentile({1, 2, 3, 4, 5}, 1.0), 5);
  EXPECT_DOUBLE_EQ(Percentile({1, 2, 3, 4, 5}, 0.0), 1);
}

}  // namespace
}  // namespace sandwatch::harness::tune
