#include "sandwatch/harness/scenario.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "sandwatch/harness/commands.h"

namespace sandwatch::harness {
namespace {

std::string SourceDir() { return ResolveSourceDir(); }

TEST(Scenario, ParsesAFullFile) {
  auto s = ParseScenario(R"(
name: t1
description: a test
runtimes: [runc, kata-qemu]
observers: [host-view, in-guest]
speeds: [blog, fast]
variants: [default]
repetitions: 2
attack: {package_install: staged, hold_ms: 300}
sensor: {capture: poll, poll_interval: 0.5, expected_processes: [sleep]}
timeouts: {cell: 3m, settle: 2s}
)",
                         "t1.yaml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->runtimes.size(), 2u);
  EXPECT_DOUBLE_EQ(s->sensor.poll_interval_s, 0.5);
  EXPECT_EQ(*s->attack.hold_ms, 300);
  EXPECT_DOUBLE_EQ(s->timeouts.cell_s, 180);
  EXPECT_DOUBLE_EQ(s->SettleSeconds(), 2);
  auto cells = ExpandCells(*s);
  ASSERT_EQ(cells.size(), 8u);
  EXPECT_EQ(cells[0].Id(), "runc-blog-default-r0");
  EXPECT_EQ(cells[7].Id(), "kata-qemu-fast-default-r1");
}

TEST(Scenario, ErrorsNameTheKey) {
  struct Case {
    const char* yaml;
    const char* key;
  };
  const std::vector<Case> cases = {
      {"name: a\nruntimes: [runc]\nobservers: [in-guest]\nsensr: {}\n", "sensr: unknown key"},
      {"name: a\nruntimes: [docker]\nobservers: [in-guest]\n", "runtimes[0]: unknown value"},
      {"name: a\nruntimes: [runc]\nobservers: [in-guest]\nsensor: {poll_interval: fast}\n",
       "sensor.poll_interval"},
      {"name: a\nruntimes: [runc]\nobservers: [in-guest]\nsensor: {capture: ebpf}\n",
       "sensor.capture: unknown value 'ebpf'"},
      {"name: a\nruntimes: [runc]\nobservers: [in-guest]\nrepetitions: 0\n", "repetitions"},
      {"name: a\nruntimes: [runc, runc]\nobservers: [in-guest]\n", "listed twice"},
      {"name: a\nobservers: [in-guest]\n", "runtimes: is required"},
      {"name: a\nruntimes: [runc]\nobservers: [in-guest]\ntimeouts: {cell: -3s}\n",
       "timeouts.cell"},
      {"name: a\nruntimes: [runc]\nobservers: in-guest: x\n", "YAML error"},
  };
  for (const auto& c : cases) {
    auto s = ParseScenario(c.yaml, "bad.yaml");
    ASSERT_FALSE(s.ok()) << c.yaml;
    EXPECT_NE(s.error().message.find(c.key), std::string::npos)
        << "message: " << s.error().message << " expected to mention: " << c.key;
    EXPECT_EQ(s.error().message.rfind("bad.yaml: ", 0), 0u);
  }
}

TEST(Scenario, ShippedScenariosParse) {
  for (const char* f : {"blog-demo.yaml", "blog-demo-ci.yaml", "speed-sweep.yaml", "variants.yaml",
                        "benign-soak.yaml", "signal-quality.yaml"}) {
    auto s = LoadScenario(SourceDir() + "/scenarios/" + f);
    EXPECT_TRUE(s.ok()) << f << ": " << (s.ok() ? "" : s.error().message);
  }
  auto soak = LoadScenario(SourceDir() + "/scenarios/benign-soak.yaml");
  ASSERT_TRUE(soak.ok());
  EXPECT_EQ(soak->chain, "benign");
  EXPECT_EQ(soak->benign.duration_s, 600);
  EXPECT_EQ(soak->BenignArgs(),
            (std::vector<std::string>{"--benign-duration-s", "600", "--benign-rate-per-min", "6"}));
  auto mixed = LoadScenario(SourceDir() + "/scenarios/signal-quality.yaml");
  ASSERT_TRUE(mixed.ok());
  EXPECT_TRUE(mixed->benign.mix);
  EXPECT_EQ(mixed->BenignArgs(), std::vector<std::string>{"--mix-benign"});
  EXPECT_EQ(mixed->expect.size(), 4u);
}

TEST(Scenario, HostLevelObserversCannotSeeIntoTheVm) {
  EXPECT_TRUE(ExpectedVisible("runc", "host-view"));
  EXPECT_TRUE(ExpectedVisible("kata-qemu", "in-guest"));
  EXPECT_FALSE(ExpectedVisible("kata-qemu", "host-view"));
  EXPECT_FALSE(ExpectedVisible("kata-qemu", "falco"));
  EXPECT_TRUE(ExpectedVisible("host", "host-view"));
}

}  // namespace
}  // namespace sandwatch::harness
