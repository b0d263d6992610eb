#include "sandwatch/core/ground_truth.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

namespace sandwatch {
namespace {

TEST(GroundTruth, RoundTripsAndReadsJsonl) {
  GroundTruthStep s;
  s.run_id = "r1";
  s.step = "shadow";
  s.signal = "shadow_file_access";
  s.signals = {"shadow_file_access"};
  s.command = {"cat", "/etc/shadow"};
  s.pid = 42;
  s.start_wall_ns = 10;
  s.end_wall_ns = 20;
  s.hold_ms = 0.00001;
  std::string path = ::testing::TempDir() + "/gt.jsonl";
  {
    std::ofstream out(path);
    out << GroundTruthToJson(s).dump() << "\n\n" << GroundTruthToJson(s).dump() << "\n";
  }
  auto steps = ReadGroundTruthFile(path);
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  ASSERT_EQ(steps->size(), 2u);
  EXPECT_EQ((*steps)[0].command[1], "/etc/shadow");
  EXPECT_EQ((*steps)[1].pid, 42);
}

TEST(GroundTruth, NamesTheBadLine) {
  std::string path = ::testing::TempDir() + "/gt_bad.jsonl";
  {
    std::ofstream out(path);
    out << R"({"step":"shell","start_wall_ns":1})"
        << "\n{oops\n";
  }
  auto steps = ReadGroundTruthFile(path);
  ASSERT_FALSE(steps.ok());
  EXPECT_NE(steps.error().message.find(":2: malformed JSON"), std::string::npos);
  EXPECT_FALSE(ReadGroundTruthFile("/nonexistent/gt.jsonl").ok());
}

}  // namespace
}  // namespace sandwatch
