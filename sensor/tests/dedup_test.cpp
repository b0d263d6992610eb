#include "sandwatch/sensor/dedup.h"

#include <gtest/gtest.h>

namespace sandwatch::sensor {
namespace {

TEST(Dedup, NormalisesNumbersSoPidsAndPortsDoNotSplitBehaviours) {
  EXPECT_EQ(NormaliseCmdline({"sleep", "10"}), NormaliseCmdline({"sleep", "11"}));
  EXPECT_NE(NormaliseCmdline({"find", "/a"}), NormaliseCmdline({"find", "/b"}));
  EXPECT_NE(DedupKey("r", "/bin/x", {"x"}, "sh"), DedupKey("r", "/bin/x", {"x"}, "bash"));
  EXPECT_NE(DedupKey("r1", "/bin/x", {"x"}, "sh"), DedupKey("r2", "/bin/x", {"x"}, "sh"));
}

TEST(Dedup, WindowThenCount) {
  Deduper d(10'000);
  EXPECT_TRUE(d.Check("k", 0).emit);
  EXPECT_FALSE(d.Check("k", 1'000).emit);
  EXPECT_FALSE(d.Check("k", 9'999).emit);
  EXPECT_TRUE(d.Check("other", 9'999).emit);
  auto v = d.Check("k", 10'000);
  EXPECT_TRUE(v.emit);
  EXPECT_EQ(v.suppressed_before, 2u);
  EXPECT_EQ(d.suppressed_total(), 2u);
  EXPECT_FALSE(d.Check("k", 10'001).emit);
}

TEST(Dedup, ZeroWindowDisablesAndKeysAreBounded) {
  Deduper off(0);
  EXPECT_TRUE(off.Check("k", 0).emit);
  EXPECT_TRUE(off.Check("k", 0).emit);
  Deduper small(1'000'000, 3);
  for (int i = 0; i < 10; ++i) small.Check("k" + std::to_string(i), i);
  EXPECT_EQ(small.size(), 3u);
  EXPECT_TRUE(small.Check("k0", 20).emit);  // forgotten, so reported again
  EXPECT_FALSE(small.Check("k9", 21).emit);
}

}  // namespace
}  // namespace sandwatch::sensor
