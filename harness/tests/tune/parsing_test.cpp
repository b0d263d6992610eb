// The sweep's pure parsers (sweep plan, sensor output) and its /proc process count.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sandwatch/core/rules/loader.h"
#include "sandwatch/harness/tune/sweep.h"
#include "sensor_output.h"
#include "sweep_pair.h"
#include "trials.h"

namespace sandwatch::harness::tune {
namespace {

TEST(ProcParsers, CountsProcesses) {
  EXPECT_GT(CountProcesses("/proc"), 0);
  EXPECT_EQ(CountProcesses("/nonexistent-proc"), -1);
}

TEST(SweepPlan, ParsesTheSweepSection) {
  const char* yaml = R"(
name: x
runtimes: [host]
sweep:
  lifetimes_ms: [10, 1000]
  poll_intervals_s: [0.5, 2]
  captures: [poll, netlink]
  trials: 30
  trials_for_lifetime: {1000: 12}
  window_s: 4
  seed: 7
)";
  auto p = ParseSweepPlan(yaml, "t.yaml");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->name, "x");
  EXPECT_EQ(p->lifetimes_ms, (std::vector<int64_t>{10, 1000}));
  EXPECT_EQ(p->intervals_s, (std::vector<double>{0.5, 2}));
  EXPECT_EQ(p->TrialsFor(10), 30);
  EXPECT_EQ(p->TrialsFor(1000), 12);
  EXPECT_EQ(p->seed, 7u);
}

TEST(SweepPlan, ErrorsNameTheKey) {
  auto bad_key = ParseSweepPlan("sweep: {trails: 3}", "t.yaml");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.error().message.find("sweep.trails"), std::string::npos);
  auto bad_cap = ParseSweepPlan("sweep: {captures: [ebpf]}", "t.yaml");
  ASSERT_FALSE(bad_cap.ok());
  EXPECT_NE(bad_cap.error().message.find("sweep.captures"), std::string::npos);
  auto bad_p = ParseSweepPlan("sweep: {poll_intervals_s: [0]}", "t.yaml");
  EXPECT_FALSE(bad_p.ok());
  auto bad_type = ParseSweepPlan("sweep: {trials: many}", "t.yaml");
  EXPECT_FALSE(bad_type.ok());
  EXPECT_FALSE(ParseSweepPlan("name: x", "t.yaml").ok());
  // The name becomes the results folder's name: no path separators.
  auto bad_name = ParseSweepPlan("name: ../x\nsweep: {}", "t.yaml");
  ASSERT_FALSE(bad_name.ok());
  EXPECT_NE(bad_name.error().message.find("name:"), std::string::npos);
}

TEST(SweepPlan, TheShippedScenarioParses) {
  const char* src = std::getenv("SANDWATCH_SOURCE_DIR");
  if (!src) GTEST_SKIP() << "SANDWATCH_SOURCE_DIR is not set";
  std::ifstream in(std::string(src) + "/scenarios/poll-sweep.yaml");
  ASSERT_TRUE(in.good());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto p = ParseSweepPlan(text, "poll-sweep.yaml");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->lifetimes_ms, (std::vector<int64_t>{1, 10, 100, 500, 1000, 2000, 5000}));
  EXPECT_EQ(p->intervals_s, (std::vector<double>{0.1, 0.25, 0.5, 1, 2, 5}));
  EXPECT_EQ(p->captures.size(), 4u);
  EXPECT_EQ(p->TrialsFor(5000), 40);
}

TEST(SensorOutput, KeepsTheFirstMarkedEventAndHeartbeats) {
  std::string tmpl = "/tmp/sw-tune-out-XXXXXX";
  const int fd = mkstemp(tmpl.data());
  ASSERT_GE(fd, 0);
  close(fd);
  const std::string path = tmpl;
  SensorOutput out(path, "sw-");
  {
    std::ofstream f(path);
    f << R"({"schema":"sandwatch.heartbeat/v1","sensor":{"id":"s","mode":"node","capture":"poll","version":"1"},"time":"2026-11-28T10:00:00Z","last_seq":0,"counters":{"scans":3,"cmdline_unreadable":1}})"
      << "\n";
    f << "not json\n";
    f << R"({"schema":"sandwatch.event/v1","id":"a","seq":1,"time":"2026-11-28T10:00:01Z","rule":"sweep_trial","priority":"Notice","output":"x","sensor":{"id":"s","mode":"node","capture":"poll","version":"1"},"process":{"pid":5,"ppid":1,"name":"sleep","cmdline":["sw-trial-abc-0-10-1","0.010"]}})"
      << "\n";
    f << R"({"schema":"sandwatch.event/v1","id":"b","seq":2,"time":"2026-11-28T10:00:02Z","rule":"sweep_trial",)";
  }
  out.Poll();
  ASSERT_EQ(out.Events().size(), 1u);
  EXPECT_EQ(out.Events().begin()->first, "sw-trial-abc-0-10-1");
  EXPECT_EQ(out.Events().begin()->second.capture, "poll");
  EXPECT_EQ(out.LastCounter("scans"), 3);
  EXPECT_EQ(out.LastCounter("missing"), -1);
  EXPECT_EQ(out.bad_lines(), 1);
  {
    // The partial line completes later; a second event for the same marker is ignored.
    std::ofstream f(path, std::ios::app);
    f << R"("priority":"Notice","output":"y","sensor":{"id":"s","mode":"node","capture":"poll","version":"1"},"process":{"pid":5,"ppid":1,"name":"sleep","cmdline":["sw-trial-abc-0-10-1"]}})"
      << "\n";
  }
  out.Poll();
  EXPECT_EQ(out.events_total(), 2);
  EXPECT_EQ(out.Events().size(), 1u);
  std::filesystem::remove(path);
}

TEST(Trials, ArgvCarriesTheMarkerAndMicroseconds) {
  EXPECT_EQ(TrialArgv({"sw-trial-x-1", 10, 0, "/tmp/d/static-trial"}),
            (std::vector<std::string>{"sw-trial-x-1", "10000"}));
  EXPECT_EQ(TrialArgv({"m", 5000, 0, "/p"}), (std::vector<std::string>{"m", "5000000"}));
}

TEST(SweepPlan, BinariesAndVantagesAreCheckedByName) {
  auto p = ParseSweepPlan("sweep: {binaries: [static], vantages: [unprivileged]}", "t.yaml");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->binaries, (std::vector<std::string>{"static"}));
  EXPECT_EQ(p->vantages, (std::vector<std::string>{"unprivileged"}));
  auto bad = ParseSweepPlan("sweep: {binaries: [go]}", "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("sweep.binaries[0]: unknown value 'go'"), std::string::npos)
      << bad.error().message;
  EXPECT_FALSE(ParseSweepPlan("sweep: {vantages: [root]}", "t.yaml").ok());
}

TEST(SweepCells, PrimaryViewIsTheStaticBinaryAtTheLeastPrivilegedVantage) {
  const auto cell = [](std::string cap, std::string vantage, std::string binary) {
    SweepCell c;
    c.capture = std::move(cap);
    c.vantage = std::move(vantage);
    c.binary = std::move(binary);
    c.poll_interval_s = 1;
    c.lifetime_ms = 1;
    c.trials = 10;
    return c;
  };
  const std::vector<SweepCell> cells = {cell("inotify", "privileged", "static"),
                                        cell("inotify", "privileged", "dynamic"),
                                        cell("inotify", "unprivileged", "static"),
                                        cell("inotify", "unprivileged", "dynamic"),
                                        cell("fanotify", "privileged", "static"),
                                        cell("fanotify", "privileged", "dynamic"),
                                        cell("poll", "", "")};  // a cell of an older sweep
  const auto view = PrimaryCells(cells);
  ASSERT_EQ(view.size(), 3u);
  EXPECT_EQ(view[0].Label(), "inotify P=1s L=1ms static, unprivileged");
  EXPECT_EQ(view[1].Label(), "fanotify P=1s L=1ms static");
  EXPECT_EQ(view[2].Label(), "poll P=1s L=1ms");
  // binary and vantage survive cells.jsonl
  auto back = CellFromJson(CellToJson(cells[3]));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->binary, "dynamic");
  EXPECT_EQ(back->vantage, "unprivileged");
}

TEST(Rules, TheGeneratedRuleMatchesTheMarkers) {
  const std::string y = SweepRulesYaml();
  EXPECT_NE(y.find("sweep_trial"), std::string::npos);
  EXPECT_NE(y.find("^sw-(trial|canary)-"), std::string::npos);
  // The sensor's own loader accepts it.
  auto set = rules::ParseRules(y, "sweep-rules.yaml");
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->EnabledCount(), 1u);
}

}  // namespace
}  // namespace sandwatch::harness::tune
