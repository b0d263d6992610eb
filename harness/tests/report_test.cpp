// Results folder: stored data round-trips, reports re-render, and attacker-controlled
// strings are escaped in every output.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "canned_run.h"
#include "sandwatch/harness/commands.h"
#include "sandwatch/harness/results.h"
#include "sandwatch/harness/run.h"

namespace sandwatch::harness {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DataDir() { return ResolveSourceDir() + "/harness/tests/data/blog-demo-recorded"; }

fs::path TempDir(const std::string& tag) {
  fs::path p =
      fs::temp_directory_path() / ("sandwatch-report-test-" + tag + "-" + std::to_string(getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

TEST(Report, RerendersTheRecordedRunFromStoredData) {
  fs::path dir = TempDir("rerender");
  for (const char* f : {"cells.json", "ground-truth.jsonl", "events.jsonl", "environment.json"}) {
    fs::copy_file(DataDir() + "/" + f, dir / f);
  }
  auto out = RerenderReport(dir.string());
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(out->finding_holds);
  for (const char* f :
       {"summary.json", "report.md", "report.html", "coverage.svg", "latency.svg"}) {
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  }
  auto summary = nlohmann::json::parse(Slurp(dir / "summary.json"));
  EXPECT_EQ(summary["backend"], "local");
  ASSERT_TRUE(summary["coverage"].is_array());
  int vm_host_view = 0;
  for (const auto& c : summary["coverage"]) {
    ASSERT_TRUE(c.contains("runtime") && c.contains("observer") && c.contains("signal") &&
                c.contains("expected") && c.contains("detected") && c.contains("latency_ms"));
    if (c["runtime"] == "kata-qemu" && c["observer"] == "host-view") {
      ++vm_host_view;
      EXPECT_EQ(c["detected"], false);
      EXPECT_EQ(c["expected"], false);
    }
  }
  EXPECT_GE(vm_host_view, 6);
  EXPECT_TRUE(summary["blog_finding"]["holds"].get<bool>());
  // Rendering twice from the same data gives the same summary.
  std::string first = Slurp(dir / "summary.json");
  ASSERT_TRUE(RerenderReport(dir.string()).ok());
  EXPECT_EQ(first, Slurp(dir / "summary.json"));
  std::string md = Slurp(dir / "report.md");
  EXPECT_NE(md.find("LOCAL STAND-IN"), std::string::npos);
  EXPECT_NE(md.find("stands where host Falco stands"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Report, AttackerControlledStringsAreEscapedEverywhere) {
  const std::string evil = "<script>alert(1)</script>|`x`<img src=x onerror=alert(2)>";
  RunRecord run;
  run.run_id = "r1";
  run.scenario = "t";
  run.backend = "local";
  CellOutcome c = canned::Cell(30);
  c.ok = true;
  GroundTruthStep s = canned::Step("shadow", "shadow_file_access", {"cat", evil}, 7, 1, 3);
  s.hold_ms = 3000;
  c.ground_truth = {s};
  ObserverBinding in = canned::InGuest("p");
  in.label = evil;
  c.observers = {in};
  c.notes = {evil};
  run.cells = {c};
  Event e;
  e.id = "e1";
  e.rule = "shadow_file_access";
  e.pod = "p";
  e.time_ns = s.start_wall_ns + 100'000'000;
  e.output = evil;
  ProcessRef p;
  p.pid = 7;
  p.name = "cat";
  p.cmdline = {"cat", evil};
  e.process = p;
  run.events = {e};
  run.raw_events = {EventToJson(e)};
  run.environment = {{"k" + evil, evil}};
  fs::path dir = TempDir("escape");
  ASSERT_TRUE(WriteRunData(dir.string(), run).ok());
  Score score = ScoreRun(run.cells, run.events, run.score_options);
  ASSERT_TRUE(score.results[0].detected);
  ASSERT_TRUE(WriteReports(dir.string(), run, score).ok());
  std::string html = Slurp(dir / "report.html");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  // Self-contained: no external scripts, styles or images.
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  std::string md = Slurp(dir / "report.md");
  EXPECT_EQ(md.find("<script"), std::string::npos);
  EXPECT_EQ(md.find("|`x`"), std::string::npos);
  for (const char* svg : {"coverage.svg", "latency.svg"}) {
    EXPECT_EQ(Slurp(dir / svg).find("<script"), std::string::npos) << svg;
  }
  // And the stored data reads back to the same score.
  auto back = ReadRunData(dir.string());
  ASSERT_TRUE(back.ok()) << back.error().message;
  Score again = ScoreRun(back->cells, back->events, back->score_options);
  ASSERT_EQ(again.results.size(), 1u);
  EXPECT_TRUE(again.results[0].detected);
  EXPECT_EQ(back->cells[0].observers[0].label, evil);
  fs::remove_all(dir);
}

TEST(Report, DamagedStoredDataNamesTheFileAndLine) {
  fs::path dir = TempDir("damaged");
  for (const char* f : {"cells.json", "ground-truth.jsonl", "events.jsonl"}) {
    fs::copy_file(DataDir() + "/" + f, dir / f);
  }
  std::ofstream(dir / "events.jsonl", std::ios::app) << "\n{\"id\": \"cut off\n";
  auto run = ReadRunData(dir.string());
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().message.rfind("events.jsonl:", 0), 0u) << run.error().message;
  fs::remove(dir / "events.jsonl");
  run = ReadRunData(dir.string());
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.error().message.find((dir / "events.jsonl").string()), std::string::npos)
      << run.error().message;
  std::ofstream(dir / "ground-truth.jsonl", std::ios::app) << "{\"cell\": \"no-such-cell\"}\n";
  run = ReadRunData(dir.string());
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.error().message.find("ground-truth.jsonl:"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Report, BlogTableHasTheSixSignalsAsRows) {
  auto run = ReadRunData(DataDir());
  ASSERT_TRUE(run.ok());
  Score s = ScoreRun(run->cells, run->events, run->score_options);
  std::string table = BlogTable(*run, s, false);
  for (const char* sig :
       {"unexpected_shell", "shadow_file_access", "aws_credential_discovery",
        "package_manager_execution", "post_start_binary_execution", "nc_execution"}) {
    EXPECT_NE(table.find(sig), std::string::npos) << sig;
  }
  EXPECT_NE(table.find("runc host-view"), std::string::npos);
  EXPECT_NE(table.find("kata-qemu* in-guest"), std::string::npos);
  EXPECT_NE(table.find("[blind]"), std::string::npos);
  std::string md = BlogTable(*run, s, true);
  EXPECT_EQ(md.rfind("| signal |", 0), 0u);
}

}  // namespace
}  // namespace sandwatch::harness
