#include "sandwatch/harness/tune/report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fixture_cells.h"

namespace sandwatch::harness::tune {
namespace {

using testing::MakeCell;
using testing::ModelPollSweep;

std::vector<SweepCell> Fixture() {
  auto cells = ModelPollSweep({0.5, 2}, {10, 500, 2000}, 40);
  cells.push_back(MakeCell("netlink", 2, 10, 40, 40, 0.0005));
  cells.push_back(MakeCell("netlink", 2, 500, 40, 40, 0.0005));
  // A cell far below its model, which the report must flag.
  cells.push_back(MakeCell("poll", 1, 500, 100, 10, 0.002));
  return cells;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct TempDir {
  TempDir() {
    std::string tmpl = "/tmp/sw-tune-test-XXXXXX";
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

TEST(Charts, AreSvgDocumentsWithOneSeriesPerInterval) {
  const auto cells = Fixture();
  const std::string svg = MissCurvesSvg(cells, "poll");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("P = 0.5s"), std::string::npos);
  EXPECT_NE(svg.find("P = 2s"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);  // the model is dashed
  const std::string heat = HeatmapSvg(cells, "poll");
  EXPECT_NE(heat.find("n=40"), std::string::npos);
  EXPECT_NE(heat.find("stroke=\"#000\""), std::string::npos);  // the flagged cell
  EXPECT_NE(CpuSvg(cells).find("netlink"), std::string::npos);
  EXPECT_NE(MissCurvesSvg({}, "poll").find("no cells measured"), std::string::npos);
}

TEST(Report, EscapesAttackerControlledStrings) {
  auto cells = Fixture();
  cells.push_back(MakeCell("<script>alert(1)</script>", 2, 10, 10, 1, 0.001));
  SweepReportInput in{
      "results/poll-sweep-test", cells, {{"machine", {{"model_name", "<b>cpu</b>"}}}}};
  const std::string html = report::ToHtml(SweepDoc(in), "sweep");
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<b>cpu"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);  // self-contained
  const std::string md = report::ToMarkdown(SweepDoc(in));
  EXPECT_EQ(md.find("<script>"), std::string::npos);
  EXPECT_NE(md.find("model outside CI"), std::string::npos);
  EXPECT_NE(md.find("scan jitter"), std::string::npos);
}

TEST(Report, SummaryHasTheContractSweepShape) {
  SweepReportInput in{"results/poll-sweep-test", Fixture(), nlohmann::json::object()};
  const auto s = RenderSummary(in);
  EXPECT_EQ(s.at("run_id"), "poll-sweep-test");
  ASSERT_EQ(s.at("sweep").size(), in.cells.size());
  for (const char* key : {"capture", "poll_interval_s", "lifetime_ms", "trials", "detected",
                          "model", "cpu_s_per_min"}) {
    EXPECT_TRUE(s["sweep"][0].contains(key)) << key;
  }
  EXPECT_FALSE(s.at("recommendations").empty());
}

TEST(Report, StaticAndDynamicSideBySidePerVantage) {
  std::vector<SweepCell> cells;
  const auto add = [&cells](const char* vantage, const char* binary, int64_t detected) {
    SweepCell c = MakeCell("inotify", 2, 1, 100, detected, 0.001);
    c.vantage = vantage;
    c.binary = binary;
    cells.push_back(c);
  };
  add("unprivileged", "static", 96);
  add("unprivileged", "dynamic", 99);
  add("privileged", "static", 98);
  add("privileged", "dynamic", 100);
  SweepReportInput in{"results/poll-sweep-test", cells, nlohmann::json::object()};
  const std::string md = report::ToMarkdown(SweepDoc(in));
  EXPECT_NE(md.find("Static and dynamic binaries, by vantage"), std::string::npos);
  EXPECT_NE(md.find("| unprivileged | inotify | 2 | 1 | 96/100 (96%) | 99/100 (99%) |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| privileged | inotify | 2 | 1 | 98/100 (98%) | 100/100 (100%) |"),
            std::string::npos);
  // The charts read the static binary at the least privileged vantage.
  const auto view = PrimaryCells(cells);
  ASSERT_EQ(view.size(), 1u);
  EXPECT_EQ(view[0].detected, 96);
}

TEST(Report, WritesAndRerendersFromStoredCells) {
  TempDir dir;
  ASSERT_TRUE(AppendCells(dir.path + "/cells.jsonl", Fixture()).ok());
  ASSERT_TRUE(RerenderSweep(dir.path).ok());
  for (const char* f : {"summary.json", "report.md", "report.html", "cpu.svg", "miss-poll.svg",
                        "miss-netlink.svg", "heatmap-poll.svg"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.path + "/" + f)) << f;
  }
  const std::string html = ReadAll(dir.path + "/report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Recommendations for common targets"), std::string::npos);
  auto again = ReadCells(dir.path + "/cells.jsonl");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), Fixture().size());
}

TEST(Report, DamagedCellsFileIsAnErrorNamingTheLine) {
  TempDir dir;
  ASSERT_TRUE(AppendCells(dir.path + "/cells.jsonl", Fixture()).ok());
  {
    std::ofstream out(dir.path + "/cells.jsonl", std::ios::app);
    out << "{\"capture\": \"poll\", \"poll_interval_s\": \"two\"}\n";
  }
  auto cells = ReadCells(dir.path + "/cells.jsonl");
  ASSERT_FALSE(cells.ok());
  EXPECT_NE(cells.error().message.find(":" + std::to_string(Fixture().size() + 1) + ":"),
            std::string::npos)
      << cells.error().message;
  EXPECT_NE(cells.error().message.find("poll_interval_s"), std::string::npos);
  EXPECT_FALSE(RerenderSweep(dir.path).ok());
  TempDir empty;
  EXPECT_FALSE(RerenderSweep(empty.path).ok());
}

}  // namespace
}  // namespace sandwatch::harness::tune
