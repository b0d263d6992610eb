// Falco as an observer, on events RECORDED from the real Falco 0.40 (modern eBPF, rules
// falco-rules-3.2.0) watching the blog chain in a runc pod of the local lab
// (data/falco-runc-recorded: a results folder of `run scenarios/falco-runc-ci.yaml`).
#include "sandwatch/harness/falco.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sandwatch/harness/command_runner.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/results.h"
#include "sandwatch/harness/scenario.h"
#include "sandwatch/harness/scorer.h"

namespace sandwatch::harness {
namespace {

using nlohmann::json;

std::string DataDir() { return ResolveSourceDir() + "/harness/tests/data/falco-runc-recorded"; }

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& path) {
  std::istringstream in(Slurp(path));
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

RunRecord Recorded() {
  auto run = ReadRunData(DataDir());
  EXPECT_TRUE(run.ok()) << (run.ok() ? "" : run.error().message);
  return run.ok() ? std::move(*run) : RunRecord{};
}

Score ScoreOf(const RunRecord& run) {
  return ScoreRun(run.cells, EventsForScoring(run.events), run.score_options);
}

const SignalResult* Find(const Score& s, const std::string& observer, const std::string& signal) {
  for (const auto& r : s.results)
    if (r.runtime == "runc" && r.observer == observer && r.signal == signal) return &r;
  return nullptr;
}

TEST(FalcoArgs, AskForEverythingTheScorerNeeds) {
  auto argv = FalcoArgs("/opt/falco", "http://127.0.0.1:4321/falco", "/r/falco-events.jsonl");
  std::string all;
  for (const auto& a : argv) all += a + "\n";
  EXPECT_EQ(argv.front(), "/opt/falco");
  for (const char* want :
       {"engine.kind=modern_ebpf\n", "json_output=true\n", "rule_matching=all\n",
        "http_output.enabled=true\n", "http_output.url=http://127.0.0.1:4321/falco\n",
        "file_output.filename=/r/falco-events.jsonl\n", "file_output.keep_alive=false\n",
        "webserver.enabled=false\n"}) {
    EXPECT_NE(all.find(want), std::string::npos) << want;
  }
  auto append = all.find("append_output[]=");
  ASSERT_NE(append, std::string::npos);
  json j = json::parse(all.substr(append + 16, all.find('\n', append) - append - 16));
  std::set<std::string> fields(j["extra_fields"].begin(), j["extra_fields"].end());
  for (const char* f : {"proc.pid", "proc.vpid", "proc.ppid", "proc.pvpid", "proc.exepath",
                        "container.id", "proc.aname[2]", "proc.apid[2]"}) {
    EXPECT_EQ(fields.count(f), 1U) << f;
  }
}

TEST(FalcoScenario, PathAndExternalAreParsedStrictly) {
  auto s = ParseScenario(
      "name: a\nruntimes: [runc]\nobservers: [falco]\nfalco: {path: /opt/falco, external: true}\n",
      "t.yaml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->falco.path, "/opt/falco");
  EXPECT_TRUE(s->falco.external);
  auto bad =
      ParseScenario("name: a\nruntimes: [runc]\nobservers: [falco]\nfalco: {pth: x}\n", "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("falco.pth"), std::string::npos) << bad.error().message;
  auto shipped = LoadScenario(ResolveSourceDir() + "/scenarios/falco-runc-ci.yaml");
  ASSERT_TRUE(shipped.ok()) << shipped.error().message;
}

TEST(FalcoRecorded, EveryAlertCarriesTheAppendedFields) {
  auto lines = Lines(DataDir() + "/falco-events.jsonl");
  ASSERT_FALSE(lines.empty());
  for (const auto& l : lines) {
    json j = json::parse(l);
    const auto& f = j["output_fields"];
    for (const char* k : {"proc.pid", "proc.vpid", "proc.exepath", "container.id"}) {
      EXPECT_TRUE(f.contains(k)) << k << " missing in " << j["rule"];
    }
  }
}

TEST(FalcoRecorded, RulesThatFiredOnTheChainMapToTheirSignals) {
  std::map<std::string, std::string> seen;  // rule -> signal, for alerts of the workload container
  auto run = Recorded();
  ASSERT_FALSE(run.cells.empty());
  std::string container;
  for (const auto& b : run.cells[0].observers)
    if (b.observer == "falco") container = b.container_id;
  ASSERT_EQ(container.size(), 12U);
  for (const auto& l : Lines(DataDir() + "/falco-events.jsonl")) {
    json j = json::parse(l);
    if (j["output_fields"].value("container.id", "") != container) continue;
    seen[j["rule"]] = SignalForRule("falco", j["rule"].get<std::string>());
  }
  for (const auto& [rule, want] : std::map<std::string, std::string>{
           {"Terminal shell in container", "unexpected_shell"},
           {"Read sensitive file untrusted", "shadow_file_access"},
           {"Find AWS Credentials", "aws_credential_discovery"},
           {"Launch Package Management Process in Container", "package_manager_execution"},
           {"Drop and execute new binary in container", "post_start_binary_execution"},
           {"Launch Suspicious Network Tool in Container", "nc_execution"},
           {"Netcat Remote Code Execution in Container", "nc_execution"}}) {
    ASSERT_EQ(seen.count(rule), 1U) << rule << " did not fire in the recording";
    EXPECT_EQ(seen[rule], want) << rule;
  }
}

TEST(FalcoRecorded, ScorerCreditsEveryBehaviourFalcoFiredOn) {
  auto run = Recorded();
  Score s = ScoreOf(run);
  for (const char* sig :
       {"unexpected_shell", "shadow_file_access", "aws_credential_discovery",
        "package_manager_execution", "post_start_binary_execution", "nc_execution"}) {
    const SignalResult* r = Find(s, "falco", sig);
    ASSERT_NE(r, nullptr) << sig;
    EXPECT_TRUE(r->detected) << sig;
    EXPECT_TRUE(r->basis == "pid" || r->basis == "pid-descendant") << sig << " " << r->basis;
  }
}

TEST(FalcoRecorded, WithoutTheAppendedFieldsTheDetectionsAreLost) {
  // What a default Falco output gives: no pid, no container id. The scorer then has no
  // evidence tying the alert to the pod, and must not credit it.
  auto run = Recorded();
  for (auto& e : run.events) {
    if (e.source != "falco") continue;
    for (const char* k : {"proc.pid", "proc.vpid", "proc.pvpid", "proc.ppid", "container.id"})
      e.fields.erase(k);
    if (e.process) e.process->pid = e.process->ppid = 0;
  }
  Score s = ScoreOf(run);
  const SignalResult* r = Find(s, "falco", "shadow_file_access");
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->detected);
}

TEST(FalcoRecorded, EveryAlertOfTheFileOutputEndsSomewhereWithAReason) {
  auto run = Recorded();
  Score s = ScoreOf(run);
  auto lines = Lines(DataDir() + "/falco-events.jsonl");
  auto acc = AccountFalcoAlerts(lines, run.cells, run.events, s);
  ASSERT_EQ(acc.size(), lines.size());
  int credited = 0;
  for (const auto& a : acc) {
    EXPECT_TRUE(a.outcome == "attributed" || a.outcome == "noise" || a.outcome == "unattributable")
        << a.outcome;
    EXPECT_FALSE(a.reason.empty()) << a.rule;
    if (a.outcome == "attributed") {
      EXPECT_FALSE(a.step.empty()) << a.rule;
    }
    credited += a.credited ? 1 : 0;
  }
  EXPECT_GE(credited, 6);
  json j = FalcoAccountsJson(acc);
  EXPECT_EQ(j["alerts"].get<int>(), static_cast<int>(lines.size()));
}

TEST(FalcoAccounting, AlertsTheReceiverNeverGotOrOutsideCellsAreExplained) {
  auto run = Recorded();
  Score s = ScoreOf(run);
  auto lines = Lines(DataDir() + "/falco-events.jsonl");
  ASSERT_FALSE(lines.empty());
  auto acc = AccountFalcoAlerts(
      {lines[0], "not json", R"({"rule":"x","time":"1999-01-01T00:00:00Z"})"}, run.cells, {}, s);
  ASSERT_EQ(acc.size(), 3U);
  for (const auto& a : acc) EXPECT_EQ(a.outcome, "unattributable");
  EXPECT_NE(acc[1].reason.find("not a JSON alert"), std::string::npos);
  EXPECT_NE(acc[2].reason.find("outside every cell"), std::string::npos);
}

TEST(FalcoAccounting, FieldsOfAnotherTypeAreExplainedNotFatal) {
  auto run = Recorded();
  Score s = ScoreOf(run);
  auto acc = AccountFalcoAlerts({R"({"rule":7,"time":5})", R"({"rule":null,"time":["x"]})"},
                                run.cells, {}, s);
  ASSERT_EQ(acc.size(), 2U);
  for (const auto& a : acc) {
    EXPECT_EQ(a.outcome, "unattributable");
    EXPECT_NE(a.reason.find("no valid time"), std::string::npos) << a.reason;
  }
}

TEST(FalcoEvents, ScoringShapeUsesTheWorkloadsOwnPids) {
  Event e;
  e.source = "falco";
  e.process = ProcessRef{};
  e.process->pid = 4242;
  e.fields = {{"proc.vpid", "17"},
              {"proc.pvpid", "9"},
              {"proc.pname", "bash"},
              {"proc.exepath", "/usr/bin/cat"},
              {"proc.aname[2]", "sandwatch-attac"},
              {"proc.aname[3]", "bash"},
              {"proc.apid[2]", "4000"}};
  Event s = FalcoEventForScoring(e);
  EXPECT_EQ(s.process->pid, 17);
  EXPECT_EQ(s.process->ppid, 9);
  EXPECT_EQ(s.process->exe, "/usr/bin/cat");
  ASSERT_TRUE(s.parent.has_value());
  EXPECT_EQ(s.parent->pid, 9);
  ASSERT_EQ(s.ancestors.size(), 2U);
  EXPECT_EQ(s.ancestors[0].name, "sandwatch-attac");
  EXPECT_EQ(s.ancestors[0].pid, 0);  // a host pid is never mixed with the workload's
  Event sensor;
  sensor.process = ProcessRef{};
  sensor.process->pid = 5;
  sensor.fields = {{"proc.vpid", "17"}};
  EXPECT_EQ(FalcoEventForScoring(sensor).process->pid, 5);
}

TEST(FalcoRuleCounts, ParsedFromTheRecordedExitSummary) {
  auto counts = ParseFalcoRuleCounts(Slurp(DataDir() + "/falco.log"));
  ASSERT_FALSE(counts.empty());
  EXPECT_GE(counts["Read sensitive file untrusted"], 1);
  EXPECT_TRUE(ParseFalcoRuleCounts("no summary here").empty());
}

TEST(FalcoRulesMap, NamesOnlyRulesOfTheShippedRulesets) {
  // The lab's Falco keeps its rules beside its wrapper (.ci/run puts it in PATH).
  std::string falco = MakeProcessRunner()->Which("falco");
  if (falco.empty()) GTEST_SKIP() << "no falco in PATH (the lab's ../shared/falco)";
  std::string dir = std::filesystem::path(falco).parent_path().string();
  std::string rules =
      Slurp(dir + "/rules/falco_rules.yaml") + Slurp(dir + "/rules/falco-incubating_rules.yaml");
  if (rules.empty()) GTEST_SKIP() << "no rules/ beside " << falco << " (an installed Falco)";
  for (const auto& [rule, sig] : FalcoRuleSignalMap()) {
    EXPECT_NE(rules.find("- rule: " + rule + "\n"), std::string::npos) << rule;
  }
  EXPECT_EQ(FalcoRulesRelease("58a4f187b6b04b43ae938132325cbbb6b2bb9eb4e76e553f5b4b7b5b360ee0b4"),
            "falco-rules-3.2.0");
}

}  // namespace
}  // namespace sandwatch::harness
