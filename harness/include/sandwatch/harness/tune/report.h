// Rendering a measured sweep: SVG charts drawn here (no plotting library),
// report.md, a self-contained report.html and summary.json. `RerenderSweep`
// renders them from the stored cells.jsonl and environment.json at any time.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sandwatch/core/result.h"
#include "sandwatch/harness/report/doc.h"
#include "sandwatch/harness/tune/cell.h"
#include "sandwatch/harness/tune/recommend.h"

namespace sandwatch::harness::tune {

// Charts (each a complete <svg> document). `capture` selects the cells.
// Miss rate against lifetime (log), one solid line per poll interval with 95 %
// Wilson whiskers, the polling model dashed in the same colour.
std::string MissCurvesSvg(const std::vector<SweepCell>& cells, const std::string& capture);
// Detection over lifetime x interval; a black frame marks a model disagreement.
std::string HeatmapSvg(const std::vector<SweepCell>& cells, const std::string& capture);
// Sensor CPU (% of a core, log) against interval: idle solid, under trial load dashed.
std::string CpuSvg(const std::vector<SweepCell>& cells);

struct SweepReportInput {
  std::string folder;  // the results folder as shown to readers (e.g. results/poll-sweep-...)
  std::vector<SweepCell> cells;
  nlohmann::json environment = nlohmann::json::object();  // environment.json
};

// report.md and report.html, with their charts.
report::Doc SweepDoc(const SweepReportInput& in);
nlohmann::json RenderSummary(const SweepReportInput& in);

// "results/poll-sweep-2026-11-28" for any path that contains results/; else the path.
std::string DisplayFolder(const std::string& dir);

// Reads `dir`/cells.jsonl and environment.json and writes summary.json, report.md,
// report.html and the *.svg charts into `dir`.
Status RerenderSweep(const std::string& dir);

}  // namespace sandwatch::harness::tune
