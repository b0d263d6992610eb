#include "sandwatch/core/clock.h"

#include <gtest/gtest.h>

namespace sandwatch {
namespace {

TEST(Rfc3339, FormatsNanosecondsInUtc) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(FormatRfc3339(1'795'856'400'123'456'789), "2026-11-28T09:00:00.123456789Z");
}

TEST(Rfc3339, RoundTrips) {
  const int64_t t = 1'795'856'400'123'456'789;
  auto parsed = ParseRfc3339(FormatRfc3339(t));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, t);
}

TEST(Rfc3339, AcceptsOffsetsAndShortFractions) {
  auto a = ParseRfc3339("2026-11-28T10:00:00.5+01:00");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 1'795'856'400'500'000'000);
  auto b = ParseRfc3339("2026-11-28T09:00:00Z");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, 1'795'856'400'000'000'000);
}

TEST(Rfc3339, RejectsGarbage) {
  EXPECT_FALSE(ParseRfc3339("").ok());
  EXPECT_FALSE(ParseRfc3339("yesterday").ok());
  EXPECT_FALSE(ParseRfc3339("2026-13-28T09:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-28T09:00:00").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-28T09:00:00Zjunk").ok());
}

TEST(Duration, ParsesFalcosidekickStyleUnits) {
  EXPECT_EQ(*ParseDuration("15m"), 15LL * 60 * 1'000'000'000);
  EXPECT_EQ(*ParseDuration("2h"), 2LL * 3600 * 1'000'000'000);
  EXPECT_EQ(*ParseDuration("500ms"), 500'000'000);
  EXPECT_EQ(*ParseDuration("0.05"), 50'000'000);
  EXPECT_FALSE(ParseDuration("15x").ok());
  EXPECT_FALSE(ParseDuration("m").ok());
  EXPECT_FALSE(ParseDuration("-1s").ok());
}

}  // namespace
}  // namespace sandwatch
