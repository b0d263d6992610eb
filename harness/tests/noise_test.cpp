// Noise attribution on canned events: each of the four outcomes (attack step, benign
// step, harness machinery, background), the aggregation into noise[] and precision[],
// Falco events on the same path, and the expect: matrix.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "canned_run.h"
#include "sandwatch/core/files.h"
#include "sandwatch/harness/expect.h"
#include "sandwatch/harness/results.h"
#include "sandwatch/harness/scorer.h"
#include "sandwatch/harness/tune/stats.h"

namespace sandwatch::harness {
namespace {

using canned::kSec;
using canned::kT0;

GroundTruthStep Step(const std::string& kind, const std::string& step, const std::string& signal,
                     std::vector<std::string> cmd, int pid, int64_t start_s, int64_t len_s) {
  GroundTruthStep s = canned::Step(step, signal, std::move(cmd), pid, start_s, len_s);
  s.kind = kind;
  s.ppid = 7;
  return s;
}

Event Ev(const std::string& id, const std::string& rule, int pid, std::vector<std::string> cmd,
         int64_t at_s, const std::string& pod = "runc-app-0") {
  Event e = canned::ProcessEvent(id, rule, pod, kT0 + at_s * kSec, pid, cmd);
  e.process->exe = cmd.empty() ? "" : "/usr/bin/" + cmd[0];
  return e;
}

struct Canned {
  CellOutcome cell = canned::Cell(100);
  ScoreOptions opts;
  Canned() {
    cell.ground_truth.push_back(
        Step("attack", "shadow", "shadow_file_access", {"cat", "/etc/shadow"}, 100, 10, 2));
    cell.ground_truth.push_back(
        Step("benign", "stat-secrets", "shadow_file_access", {"stat", "/etc/shadow"}, 200, 14, 1));
    cell.observers.push_back(canned::InGuest("runc-app-0"));
  }
};

const Attribution* ById(const NoiseScore& n, const std::string& id) {
  for (const auto& a : n.attributions) {
    if (a.event_id == id) return &a;
  }
  return nullptr;
}

TEST(Noise, EachEventGetsOneOfTheFourOutcomes) {
  Canned c;
  std::vector<Event> events;
  events.push_back(Ev("attack", "shadow_file_access", 100, {"cat", "/etc/shadow"}, 11));
  events.push_back(Ev("benign", "shadow_file_access", 200, {"stat", "/etc/shadow"}, 15));
  Event bg = Ev("background", "post_start_binary_execution", 300, {"python3", "x.py"}, 40);
  bg.parent = AncestorRef{290, "bash", {"bash"}};
  events.push_back(bg);
  Event runc_init = Ev("machinery", "post_start_binary_execution", 310, {"runc", "init"}, 41);
  runc_init.process->name = "runc:[2:INIT]";
  events.push_back(runc_init);
  events.push_back(Ev("late", "unexpected_shell", 320, {"sh"}, 500));  // after the cell
  events.push_back(Ev("elsewhere", "unexpected_shell", 330, {"sh"}, 20, "other-pod"));

  Score s = ScoreRun({c.cell}, events, c.opts);
  const NoiseScore& n = s.noise;
  ASSERT_NE(ById(n, "attack"), nullptr);
  EXPECT_EQ(ById(n, "attack")->outcome, Outcome::kAttack);
  EXPECT_EQ(ById(n, "attack")->step, "shadow");
  ASSERT_NE(ById(n, "benign"), nullptr);
  EXPECT_EQ(ById(n, "benign")->outcome, Outcome::kBenign);
  EXPECT_EQ(ById(n, "benign")->step, "stat-secrets");
  EXPECT_NE(ById(n, "benign")->reason.find("pid"), std::string::npos);
  ASSERT_NE(ById(n, "background"), nullptr);
  EXPECT_EQ(ById(n, "background")->outcome, Outcome::kBackground);
  ASSERT_NE(ById(n, "machinery"), nullptr);
  EXPECT_EQ(ById(n, "machinery")->outcome, Outcome::kMachinery);
  EXPECT_NE(ById(n, "machinery")->reason.find("runc"), std::string::npos);
  // Outside the cell's window: still attributed (never dropped), in no cell.
  ASSERT_NE(ById(n, "late"), nullptr);
  EXPECT_EQ(ById(n, "late")->cell, "");
  // Another pod is no observer of this run.
  EXPECT_EQ(ById(n, "elsewhere"), nullptr);

  ASSERT_EQ(n.precision.size(), 1u);
  const PrecisionEntry& p = n.precision[0];
  EXPECT_EQ(p.true_positives, 1);
  EXPECT_EQ(p.benign_false_positives, 1);
  EXPECT_EQ(p.background_events, 1);
  EXPECT_EQ(p.false_positives, 2);
  EXPECT_EQ(p.machinery_excluded, 1);
  ASSERT_TRUE(p.precision.has_value());
  tune::Proportion w = tune::Wilson(1, 3);
  EXPECT_DOUBLE_EQ(*p.precision, w.p);
  EXPECT_DOUBLE_EQ(p.ci95[0], w.lo);
  EXPECT_DOUBLE_EQ(p.ci95[1], w.hi);
  EXPECT_DOUBLE_EQ(p.duration_s, 100);

  int fp = -1, steps = -1, bgn = -1;
  for (const auto& e : n.noise) {
    if (e.signal == "shadow_file_access") fp = e.false_positives, steps = e.benign_steps;
    if (e.signal == "post_start_binary_execution") bgn = e.background_events;
  }
  EXPECT_EQ(fp, 1);
  EXPECT_EQ(steps, 1);
  EXPECT_EQ(bgn, 1);
  ASSERT_EQ(n.background_examples.size(), 1u);
  EXPECT_EQ(n.background_examples[0].rule, "post_start_binary_execution");
  EXPECT_EQ(n.background_examples[0].exe, "/usr/bin/python3");
  // The benign step expects nothing: it adds no coverage row.
  for (const auto& r : s.results) EXPECT_NE(r.step, "stat-secrets");
}

TEST(Noise, APidMatchBeatsANameMatchAcrossAttackAndBenign) {
  Canned c;
  // dpkg -i (attack) and dpkg -l (benign) overlap in time; the pid decides.
  c.cell.ground_truth.push_back(Step("attack", "package-install", "package_manager_execution",
                                     {"dpkg", "-i", "x.deb"}, 400, 30, 2));
  c.cell.ground_truth.push_back(
      Step("benign", "package-query", "package_manager_execution", {"dpkg", "-l"}, 401, 33, 1));
  Score s =
      ScoreRun({c.cell}, {Ev("q", "package_manager_execution", 401, {"dpkg", "-l"}, 34)}, c.opts);
  ASSERT_NE(ById(s.noise, "q"), nullptr);
  EXPECT_EQ(ById(s.noise, "q")->outcome, Outcome::kBenign);
  EXPECT_EQ(ById(s.noise, "q")->step, "package-query");
}

TEST(Noise, AnAttackerNamingItselfRuncIsNotMachinery) {
  Canned c;
  Event e = Ev("fake", "unexpected_shell", 500, {"runc"}, 50);
  e.ancestors.push_back({7, "sandwatch-attac", {"sandwatch-attack-sim", "run"}});
  Score s = ScoreRun({c.cell}, {e}, c.opts);
  ASSERT_NE(ById(s.noise, "fake"), nullptr);
  EXPECT_EQ(ById(s.noise, "fake")->outcome, Outcome::kBackground);
}

TEST(Noise, FalcoEventsTakeTheSamePath) {
  Canned c;
  c.cell.observers.push_back(canned::Falco());
  Event e = Ev("f1", "Read sensitive file untrusted", 200, {"stat", "/etc/shadow"}, 15, "");
  e.source = "falco";
  Score s = ScoreRun({c.cell}, {e}, c.opts);
  const Attribution* a = ById(s.noise, "f1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->observer, "falco");
  EXPECT_EQ(a->outcome, Outcome::kBenign);
  EXPECT_EQ(a->signal, "shadow_file_access");
}

TEST(Noise, NoiseAndPrecisionArePresentWhenZero) {
  Canned c;
  RunRecord run;
  run.run_id = "quiet";
  run.backend = "local";
  run.cells = {c.cell};
  Score s = ScoreRun(run.cells, {}, c.opts);
  nlohmann::json j = SummaryJson(run, s);
  ASSERT_TRUE(j["noise"].is_array());
  ASSERT_TRUE(j["precision"].is_array());
  ASSERT_EQ(j["precision"].size(), 1u);
  EXPECT_EQ(j["precision"][0]["true_positives"], 0);
  EXPECT_EQ(j["precision"][0]["false_positives"], 0);
  EXPECT_TRUE(j["precision"][0]["precision"].is_null());
  EXPECT_EQ(j["precision"][0]["ci95"], nlohmann::json::array({0.0, 1.0}));
  EXPECT_GE(j["noise"].size(), 6u);  // every seed signal, zero or not
  for (const auto& e : j["noise"]) EXPECT_EQ(e["false_positives"], 0);
}

TEST(Noise, AttributionLinesNameTheCellAndTheOutcome) {
  Canned c;
  Score s = ScoreRun({c.cell},
                     {Ev("attack", "shadow_file_access", 100, {"cat", "/etc/shadow"}, 11),
                      Ev("benign", "shadow_file_access", 200, {"stat", "/etc/shadow"}, 15)},
                     c.opts);
  std::vector<nlohmann::json> lines;
  for (const auto& l : SplitLines(AttributionJsonl(s))) lines.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["event_id"], "attack");
  EXPECT_EQ(lines[0]["cell"], c.cell.cell.Id());
  EXPECT_EQ(lines[0]["outcome"], "attack");
  EXPECT_EQ(lines[0]["step"], "shadow");
  EXPECT_EQ(lines[1]["outcome"], "benign");
  // Eleven keys, the step's start time (an internal key of the count) not among them.
  EXPECT_EQ(lines[0].size(), 11u);
  EXPECT_FALSE(lines[0].contains("step_start_wall_ns"));
}

TEST(Noise, AttackerWrittenFieldsAreEscapedInTheNoiseSections) {
  Canned c;
  const std::string evil = "<img src=x onerror=alert(1)>|`x`";
  Event e = Ev("evil", evil, 300, {evil}, 40);
  e.process->exe = evil;
  Score s = ScoreRun({c.cell}, {e}, c.opts);
  const std::string html = report::ToHtml(NoiseDoc(s), "noise");
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x"), std::string::npos);
  EXPECT_EQ(NoiseSvg(s).find("<img"), std::string::npos);
  const std::string md = report::ToMarkdown(NoiseDoc(s));
  EXPECT_EQ(md.find("<img"), std::string::npos);
  EXPECT_EQ(md.find("|`x`"), std::string::npos);  // cannot break a table cell or a code span
}

TEST(Expect, TheMatrixComesFromTheScenarioAndNamesWhatFailed) {
  auto sc = ParseScenario(
      "name: t\nruntimes: [runc, kata-qemu]\nobservers: [in-guest]\n"
      "expect:\n  - {runtime: runc, observer: in-guest, signals: [shadow_file_access], "
      "detected: true}\n  - {runtime: kata-qemu, observer: in-guest, signals: seed, detected: "
      "true}\n",
      "t.yaml");
  ASSERT_TRUE(sc.ok()) << sc.error().message;
  ASSERT_EQ(sc->expect.size(), 2u);
  EXPECT_EQ(sc->expect[1].signals.size(), 6u);
  Canned c;
  Score s = ScoreRun({c.cell}, {Ev("a", "shadow_file_access", 100, {"cat"}, 11)}, c.opts);
  FindingVerdict v = JudgeExpectations(sc->expect, s, {c.cell});
  EXPECT_TRUE(v.applicable);
  EXPECT_TRUE(v.holds) << v.problems;
  EXPECT_NE(v.not_judged.find("kata-qemu"), std::string::npos);
  s = ScoreRun({c.cell}, {}, c.opts);
  v = JudgeExpectations(sc->expect, s, {c.cell});
  EXPECT_FALSE(v.holds);
  EXPECT_NE(v.problems.find("runc/in-guest missed shadow_file_access"), std::string::npos);
  auto bad = ParseScenario(
      "name: t\nruntimes: [runc]\nobservers: [in-guest]\nexpect:\n  - {runtime: runc, "
      "observer: in-guest, signals: [nope], detected: true}\n",
      "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("expect[0].signals"), std::string::npos);
}

}  // namespace
}  // namespace sandwatch::harness
