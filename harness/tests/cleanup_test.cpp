#include "sandwatch/harness/cleanup.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sandwatch::harness {
namespace {

TEST(CleanupRegistry, RunsNewestFirstAndOnlyOnce) {
  std::vector<std::string> order;
  {
    CleanupRegistry reg;
    reg.Add("a", [&] { order.emplace_back("a"); });
    auto b = reg.Add("b", [&] { order.emplace_back("b"); });
    reg.Add("c", [&] { order.emplace_back("c"); });
    reg.RunOne(b);
    EXPECT_EQ(reg.Pending(), 2u);
    reg.RunAll();
    EXPECT_EQ(reg.Pending(), 0u);
  }  // the destructor finds nothing left to run
  EXPECT_EQ(order, (std::vector<std::string>{"b", "c", "a"}));
}

TEST(CleanupRegistry, KeepsGoingWhenAStepThrows) {
  std::vector<std::string> order;
  CleanupRegistry reg;
  reg.Add("first", [&] { order.emplace_back("first"); });
  reg.Add("broken", [] { throw std::runtime_error("umount failed"); });
  reg.RunAll();
  EXPECT_EQ(order, (std::vector<std::string>{"first"}));
}

TEST(CleanupRegistry, DestructorRunsPendingSteps) {
  int runs = 0;
  {
    CleanupRegistry reg;
    reg.Add("x", [&] { ++runs; });
    auto d = reg.Add("dismissed", [&] { runs += 100; });
    reg.Dismiss(d);
  }
  EXPECT_EQ(runs, 1);
}

}  // namespace
}  // namespace sandwatch::harness
