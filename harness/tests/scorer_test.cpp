// The scorer on a recorded run (blog-demo on this machine: runc + the qemu stand-in,
// host-view + in-guest; the host-view events include other attack-sim runs that were
// going on on the same machine) and on hand-made tricky cases.
#include "sandwatch/harness/scorer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "canned_run.h"
#include "sandwatch/core/signals.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/expect.h"
#include "sandwatch/harness/results.h"

namespace sandwatch::harness {
namespace {

std::string DataDir() { return ResolveSourceDir() + "/harness/tests/data/blog-demo-recorded"; }

RunRecord Recorded() {
  auto run = ReadRunData(DataDir());
  EXPECT_TRUE(run.ok()) << (run.ok() ? "" : run.error().message);
  return run.ok() ? std::move(*run) : RunRecord{};
}

const SignalResult* Find(const Score& s, const std::string& runtime, const std::string& observer,
                         const std::string& signal) {
  for (const auto& r : s.results) {
    if (r.runtime == runtime && r.observer == observer && r.signal == signal) return &r;
  }
  return nullptr;
}

const CellOutcome& CellOf(const RunRecord& run, const std::string& runtime) {
  for (const auto& c : run.cells) {
    if (c.cell.runtime == runtime) return c;
  }
  static CellOutcome none;
  return none;
}

TEST(ScorerRecorded, ReproducesTheBlogFinding) {
  RunRecord run = Recorded();
  ASSERT_EQ(run.cells.size(), 2u);
  Score s = ScoreRun(run.cells, run.events, run.score_options);
  // The recording predates the stored matrix: it comes from scenarios/blog-demo.yaml.
  ASSERT_EQ(run.expect.size(), 4u);
  FindingVerdict v = JudgeExpectations(run.expect, s, run.cells);
  EXPECT_TRUE(v.applicable);
  EXPECT_TRUE(v.holds) << v.problems;
  for (auto sig : signals::kSeedSignals) {
    std::string name(sig);
    const auto* runc_in = Find(s, "runc", "in-guest", name);
    ASSERT_NE(runc_in, nullptr) << name;
    EXPECT_TRUE(runc_in->detected) << name;
    // The sidecar shares the workload's PID namespace: the ground-truth pid is comparable.
    EXPECT_EQ(runc_in->basis.rfind("pid", 0), 0u) << name << " " << runc_in->basis;
    const auto* runc_hv = Find(s, "runc", "host-view", name);
    ASSERT_NE(runc_hv, nullptr);
    EXPECT_TRUE(runc_hv->detected) << name;
    // Host pids differ from the container's: matched by command line and lineage.
    EXPECT_EQ(runc_hv->basis.rfind("cmdline", 0), 0u) << name << " " << runc_hv->basis;
    const auto* vm_hv = Find(s, "kata-qemu", "host-view", name);
    ASSERT_NE(vm_hv, nullptr);
    EXPECT_FALSE(vm_hv->expected);
    EXPECT_FALSE(vm_hv->detected) << name;
    EXPECT_TRUE(Find(s, "kata-qemu", "in-guest", name)->detected) << name;
  }
  EXPECT_TRUE(s.short_lived_missed.empty());
}

TEST(ScorerRecorded, AnotherAttackSimOnTheMachineIsNotTheChain) {
  // While the demo ran, other attack-sim runs (tests) ran `tail -f /etc/shadow` on the
  // host too. The host view saw them; without the lineage anchor ("runc") they would
  // count for the runc cell. Show that they exist and that the anchor is what stops them.
  RunRecord run = Recorded();
  const CellOutcome& runc = CellOf(run, "runc");
  int others = 0;
  for (const auto& e : run.events) {
    if (e.pod != "host-view" || e.rule != "shadow_file_access" || !e.process) continue;
    if (e.time_ns < runc.start_wall_ns || e.time_ns > runc.end_wall_ns) continue;
    bool has_runc = false;
    for (const auto& a : e.ancestors) has_runc = has_runc || a.name == "runc";
    if (!has_runc && e.process->cmdline == std::vector<std::string>{"tail", "-f", "/etc/shadow"})
      ++others;
  }
  ASSERT_GT(others, 0) << "the recording should hold another run's tail -f /etc/shadow";
  // Keep only the other runs' events: the runc host view must then miss the signal.
  std::vector<Event> only_others;
  for (const auto& e : run.events) {
    bool has_runc = false;
    for (const auto& a : e.ancestors) has_runc = has_runc || a.name == "runc";
    if (e.pod == "host-view" && !has_runc) only_others.push_back(e);
  }
  Score s = ScoreRun({runc}, only_others, run.score_options);
  EXPECT_FALSE(Find(s, "runc", "host-view", "shadow_file_access")->detected);
}

TEST(ScorerRecorded, EventsFromAnotherPodDoNotCount) {
  RunRecord run = Recorded();
  const CellOutcome& runc = CellOf(run, "runc");
  std::vector<Event> moved;
  for (Event e : run.events) {
    if (e.pod != "runc-app-0") continue;
    e.pod = "runc-app-7";  // the same events, from another pod
    moved.push_back(std::move(e));
  }
  ASSERT_GT(moved.size(), 6u);
  Score s = ScoreRun({runc}, moved, run.score_options);
  for (auto sig : signals::kSeedSignals) {
    EXPECT_FALSE(Find(s, "runc", "in-guest", std::string(sig))->detected) << sig;
  }
  EXPECT_EQ(s.unmatched_events, 0);  // runc-app-7 is nobody's observer here: not even noise
}

// Hand-made cases around one step.
struct Tiny {
  CellOutcome cell = canned::Cell(60);
  ScoreOptions opts;
  Tiny() {
    GroundTruthStep s =
        canned::Step("shadow", "shadow_file_access", {"tail", "-f", "/etc/shadow"}, 22, 10, 5);
    s.hold_ms = 5000;
    cell.ground_truth.push_back(s);
    cell.observers.push_back(canned::InGuest("runc-app-0"));
    opts.poll_interval_s = 2;
  }
  Event Ev(const std::string& id, int pid, std::vector<std::string> cmd, int64_t offset_ms) const {
    return canned::ProcessEvent(id, "shadow_file_access", "runc-app-0",
                                cell.ground_truth[0].start_wall_ns + offset_ms * 1'000'000, pid,
                                std::move(cmd));
  }
};

TEST(ScorerTricky, PidReuseOutsideTheWindowIsNotTheStep) {
  Tiny t;
  // pid 22 again, a minute later, running something else: the kernel reused the pid.
  Score s = ScoreRun({t.cell}, {t.Ev("a", 22, {"cat", "/etc/shadow"}, 40'000)}, t.opts);
  EXPECT_FALSE(s.results[0].detected);
  // The same pid inside the window but another program is not the step either.
  s = ScoreRun({t.cell}, {t.Ev("b", 22, {"sleep", "1"}, 1000)}, t.opts);
  EXPECT_FALSE(s.results[0].detected);
  // The real one.
  s = ScoreRun({t.cell}, {t.Ev("c", 22, {"tail", "-f", "/etc/shadow"}, 1500)}, t.opts);
  EXPECT_TRUE(s.results[0].detected);
  EXPECT_EQ(s.results[0].basis, "pid");
  EXPECT_DOUBLE_EQ(*s.results[0].latency_ms, 1500);
}

TEST(ScorerTricky, DuplicatesAreOneDetectionAndTheEarliestGivesTheLatency) {
  Tiny t;
  Score s = ScoreRun({t.cell},
                     {t.Ev("late", 22, {"tail", "-f", "/etc/shadow"}, 3900),
                      t.Ev("early", 22, {"tail", "-f", "/etc/shadow"}, 1900),
                      t.Ev("again", 22, {"tail", "-f", "/etc/shadow"}, 3900)},
                     t.opts);
  ASSERT_EQ(s.results.size(), 1u);
  EXPECT_TRUE(s.results[0].detected);
  EXPECT_EQ(s.results[0].events, 3);
  EXPECT_EQ(s.results[0].first_event_id, "early");
  EXPECT_DOUBLE_EQ(*s.results[0].latency_ms, 1900);
  EXPECT_EQ(s.coverage[0].cells, 1);
}

TEST(ScorerTricky, ADescendantOfTheStepCounts) {
  Tiny t;
  Event e = t.Ev("child", 30, {"sh", "-c", "x"}, 500);
  e.process->ppid = 22;
  e.parent = AncestorRef{22, "tail", {}};
  Score s = ScoreRun({t.cell}, {e}, t.opts);
  EXPECT_TRUE(s.results[0].detected);
  EXPECT_EQ(s.results[0].basis, "pid-descendant");
}

TEST(ScorerTricky, NodeWideObserverNeedsLineage) {
  Tiny t;
  ObserverBinding hv;
  hv.observer = "host-view";
  hv.pod = "host-view";
  hv.shared_vantage = true;
  hv.lineage = {"runc"};
  t.cell.observers = {hv};
  Event e = t.Ev("x", 5000, {"tail", "-f", "/etc/shadow"}, 100);
  e.pod = "host-view";
  Score s = ScoreRun({t.cell}, {e}, t.opts);
  EXPECT_FALSE(s.results[0].detected) << "same command, no lineage: anyone's tail";
  e.ancestors = {{4999, "bash", {}}, {4998, "sandwatch-attac", {}}};
  s = ScoreRun({t.cell}, {e}, t.opts);
  EXPECT_FALSE(s.results[0].detected) << "another attack-sim, not under runc";
  e.ancestors.push_back({4997, "runc", {}});
  s = ScoreRun({t.cell}, {e}, t.opts);
  EXPECT_TRUE(s.results[0].detected);
  EXPECT_EQ(s.results[0].basis, "cmdline");
}

TEST(ScorerTricky, ShortLivedMissesAreListedAndSkippedStepsExpectNothing) {
  Tiny t;
  t.cell.ground_truth[0].hold_ms = 70;  // dpkg -i offline: gone before a 2 s poll
  GroundTruthStep skipped = t.cell.ground_truth[0];
  skipped.status = "skipped";
  skipped.signal = "package_manager_execution";
  skipped.signals = {"package_manager_execution"};
  t.cell.ground_truth.push_back(skipped);
  Score s = ScoreRun({t.cell}, {}, t.opts);
  ASSERT_EQ(s.results.size(), 1u);
  ASSERT_EQ(s.short_lived_missed.size(), 1u);
  EXPECT_EQ(s.short_lived_missed[0].signal, "shadow_file_access");
  EXPECT_DOUBLE_EQ(s.short_lived_missed[0].hold_ms, 70);
}

TEST(ScorerTricky, AbsentObserverIsReportedNotScored) {
  Tiny t;
  t.cell.observers = {canned::Falco(/*available=*/false)};
  Event e = t.Ev("f", 22, {"tail", "-f", "/etc/shadow"}, 100);
  e.source = "falco";
  e.rule = "Read sensitive file untrusted";
  Score s = ScoreRun({t.cell}, {e}, t.opts);
  EXPECT_FALSE(s.results[0].observer_available);
  EXPECT_FALSE(s.results[0].detected);
  EXPECT_FALSE(s.coverage[0].available);
}

TEST(ScorerTricky, FalcoRulesMapToTheSixSignals) {
  EXPECT_EQ(SignalForRule("falco", "Read sensitive file untrusted"), "shadow_file_access");
  EXPECT_EQ(SignalForRule("falco", "Launch Package Management Process in Container"),
            "package_manager_execution");
  EXPECT_EQ(SignalForRule("falco", "Drop and execute new binary in container"),
            "post_start_binary_execution");
  EXPECT_EQ(SignalForRule("falco", "Something else"), "");
  EXPECT_EQ(SignalForRule("sandwatch", "nc_execution"), "nc_execution");
}

}  // namespace
}  // namespace sandwatch::harness
