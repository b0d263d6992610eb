// The benign chain against real sensors (host runtime: the real receiver, sensors and
// attack-sim, loopback only): every alert raised on a benign step's process is
// attributed to that step, no event is dropped, and noise[]/precision[] are written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "lab_test_util.h"
#include "sandwatch/core/event.h"
#include "sandwatch/core/ground_truth.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/run.h"

namespace sandwatch::harness {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<json> Lines(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

TEST(NoiseIntegration, EachAlertOnTheBenignChainIsAttributedToItsStep) {
  const std::string out_dir = testing::TempOut("benign");
  fs::create_directories(out_dir);
  const std::string scenario = out_dir + "-benign.yaml";
  {
    std::ofstream f(scenario);
    f << "name: benign-it\nruntimes: [host]\nobservers: [in-guest, host-view]\n"
         "chain: benign\nbenign: {duration_s: 30, rate_per_min: 30}\nspeeds: [fast]\n"
         "sensor: {capture: poll, poll_interval: 0.5, heartbeat_interval: 2}\n"
         "timeouts: {cell: 3m, settle: 3s}\n";
  }
  auto out = testing::RunForReal(scenario, out_dir);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(out->all_cells_ok) << out->table;
  EXPECT_NE(out->noise_line.find("host/in-guest"), std::string::npos) << out->noise_line;

  // The ground truth: benign steps only, most of the catalogue ran.
  std::map<int, GroundTruthStep> by_pid;
  int ran = 0;
  for (const auto& j : Lines(out_dir + "/ground-truth.jsonl")) {
    auto g = GroundTruthFromJson(j);
    ASSERT_TRUE(g.ok()) << g.error().message;
    EXPECT_EQ(g->kind, "benign") << g->step;
    if (g->status != "ran") continue;
    ++ran;
    by_pid[g->pid] = *g;
  }
  // The machine may be busy (pip alone can take seconds): at least a few steps ran.
  EXPECT_GE(ran, 4);

  std::map<std::string, json> attribution;
  for (const auto& a : Lines(out_dir + "/attribution.jsonl")) {
    attribution[a["event_id"].get<std::string>()] = a;
  }
  std::map<std::pair<std::string, int>, const GroundTruthStep*> by_step;
  for (const auto& [pid, g] : by_pid) by_step[{g.step, g.repeat}] = &g;
  int on_benign = 0;
  for (const auto& j : Lines(out_dir + "/events.jsonl")) {
    auto e = EventFromJson(j);
    if (!e.ok()) continue;
    if (e->pod != "host-app-0" && e->pod != "host-view") continue;
    // Never dropped: every event of an observer has an attribution.
    auto it = attribution.find(e->id);
    ASSERT_NE(it, attribution.end()) << e->id << " " << e->rule;
    const json& a = it->second;
    // The in-guest sensor shares the pod's PID namespace: its pids are the ground truth's.
    if (e->pod != "host-app-0" || !e->process) continue;
    if (a["outcome"] == "benign") {
      // Attributed to a step that ran, and the event's process is that step's process
      // or one of its descendants.
      auto st = by_step.find({a["step"].get<std::string>(), a["repeat"].get<int>()});
      ASSERT_NE(st, by_step.end()) << a.dump();
      const int pid = st->second->pid;
      bool lineage = e->process->pid == pid || e->process->ppid == pid;
      for (const auto& anc : e->ancestors) lineage = lineage || anc.pid == pid;
      EXPECT_TRUE(lineage) << a.dump() << " step pid " << pid;
    }
    auto step = by_pid.find(e->process->pid);
    if (step == by_pid.end()) continue;
    const GroundTruthStep& g = step->second;
    if (e->time_ns < g.start_wall_ns - 1'000'000'000LL) continue;  // a reused pid, earlier
    // An alert on a benign step's own process is that step's false positive.
    ++on_benign;
    EXPECT_EQ(a["outcome"], "benign") << a.dump() << "\n" << j.dump();
    EXPECT_EQ(a["step"], g.step) << a.dump();
    EXPECT_EQ(a["repeat"], g.repeat) << a.dump();
  }
  std::printf("alerts on benign steps' own processes: %d\n%s", on_benign, out->noise_line.c_str());

  auto summary = json::parse(testing::Slurp(out_dir + "/summary.json"));
  ASSERT_TRUE(summary["noise"].is_array());
  ASSERT_TRUE(summary["precision"].is_array());
  std::set<std::string> observers;
  for (const auto& p : summary["precision"]) {
    EXPECT_EQ(p["runtime"], "host");
    EXPECT_EQ(p["true_positives"], 0);  // no attack ran
    observers.insert(p["observer"].get<std::string>());
  }
  EXPECT_EQ(observers, (std::set<std::string>{"in-guest", "host-view"}));
  int benign_steps = 0;
  for (const auto& n : summary["noise"]) {
    if (n["observer"] == "in-guest") benign_steps += n["benign_steps"].get<int>();
  }
  EXPECT_EQ(benign_steps, ran);
  EXPECT_TRUE(fs::exists(out_dir + "/noise.svg"));
  fs::remove_all(out_dir);
  fs::remove(scenario);
}

}  // namespace
}  // namespace sandwatch::harness
