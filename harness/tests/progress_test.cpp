#include "sandwatch/harness/progress.h"

#include <gtest/gtest.h>

namespace sandwatch::harness {
namespace {

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(45.4), "45s");
  EXPECT_EQ(FormatDuration(62), "1m02s");
  EXPECT_EQ(FormatDuration(3780), "1h03m");
  EXPECT_EQ(FormatDuration(-5), "0s");
}

TEST(Progress, EstimatesTimeLeftFromFinishedCells) {
  ManualClock clock(0, 0);
  Progress p(clock, 4, /*quiet=*/true);
  p.BeginCell(0, "runc-blog-default-r0");
  EXPECT_EQ(p.Line(), "[harness] cell 1/4 runc-blog-default-r0, elapsed 0s");
  clock.Advance(40'000'000'000);
  p.EndCell(0, true);
  p.BeginCell(1, "kata-qemu-blog-default-r0");
  clock.Advance(10'000'000'000);
  // 40 s per cell so far, 3 cells to go, 10 s into this one: 110 s left.
  EXPECT_EQ(p.Line(), "[harness] cell 2/4 kata-qemu-blog-default-r0, elapsed 50s, ~1m50s left");
}

}  // namespace
}  // namespace sandwatch::harness
