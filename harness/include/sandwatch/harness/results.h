// results/RUN-ID/: the stored data of a run and the reports rendered from it.
//
// Stored (the source of truth; `harness report` re-renders from these):
//   events.jsonl        every event the receiver served, as served
//   ground-truth.jsonl  attack-sim's steps, every cell (run_id links a line to its cell)
//   cells.json          the cells: runtime, speed, variant, window, observer bindings, notes
//   environment.json    kernel, tool versions, capture sources active, stand-ins
// Rendered:
//   summary.json, report.md, report.html (self-contained), coverage.svg, latency.svg,
//   noise.svg, attribution.jsonl (every event's outcome: attack, benign, machinery,
//   background)
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sandwatch/core/event.h"
#include "sandwatch/core/result.h"
#include "sandwatch/harness/backend.h"
#include "sandwatch/harness/report/doc.h"
#include "sandwatch/harness/scorer.h"

// std::optional as its value or null, so structs with optional fields serialize through
// nlohmann's field macros.
template <typename T>
struct nlohmann::adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& v) { j = v ? json(*v) : json(nullptr); }
  static void from_json(const json& j, std::optional<T>& v) {
    v = j.is_null() ? std::nullopt : std::optional<T>(j.get<T>());
  }
};

namespace sandwatch::harness {

// A run's own fields (cells.json keeps them under these names).
struct RunInfo {
  std::string run_id;
  std::string scenario;  // name
  std::string scenario_path;
  std::string description;
  std::string backend;
  int64_t started_wall_ns = 0;
  int64_t finished_wall_ns = 0;
  ScoreOptions score_options;
};

struct RunRecord : RunInfo {
  std::vector<Expectation> expect;  // the scenario's expect: matrix
  std::vector<CellOutcome> cells;   // ground truth included
  std::vector<Event> events;
  std::vector<nlohmann::json> raw_events;
  nlohmann::json environment = nlohmann::json::object();
};

Status WriteRunData(const std::string& dir, const RunRecord& run);
Result<RunRecord> ReadRunData(const std::string& dir);

// summary.json, report.md, report.html and the SVG charts.
Status WriteReports(const std::string& dir, const RunRecord& run, const Score& score);
// Writes a report document into `dir`: report.md, report.html (titled `title`) and each
// chart's .svg file.
Status WriteDoc(const std::string& dir, const report::Doc& doc, const std::string& title);

nlohmann::json SummaryJson(const RunRecord& run, const Score& score);

// The blog's table: the six seed signals as rows, runtime x observer columns, then
// the noise rows (false positives and background alerts, precision with its interval).
// Plain text for the terminal (markdown when `markdown`).
std::string BlogTable(const RunRecord& run, const Score& score, bool markdown);
// The same table and its notes as a report section.
report::Doc BlogDoc(const RunRecord& run, const Score& score);

// Noise (report/noise_report.cpp).
// True when a cell of this run really ran the local qemu stand-in for kata-qemu.
bool RanLocalStandIn(const RunRecord& run);
// One line for the terminal (demo, run): false positives and background per observer.
std::string NoiseLine(const Score& score);
// The noise and precision section of the run report.
report::Doc NoiseDoc(const Score& score);
// Benign steps played for this entry's runtime and observer.
int BenignSteps(const Score& score, const PrecisionEntry& p);
double BackgroundPerHour(const PrecisionEntry& p);
// "0.93 [0.80, 0.98]" or "nothing raised".
std::string PrecisionText(const PrecisionEntry& p);
// summary.json's noise[], precision[], background_examples[] and counts.
nlohmann::json NoiseSummaryJson(const Score& score);
// attribution.jsonl: one line per event with its outcome and reason.
std::string AttributionJsonl(const Score& score);

// Charts (standalone SVG documents; every text escaped).
std::string CoverageHeatmapSvg(const Score& score);
std::string LatencySvg(const Score& score);
std::string NoiseSvg(const Score& score);

// HTML/XML escaping for text and attribute values.
std::string EscapeHtml(std::string_view text);
// Markdown escaping for table cells and text (backslash, |, #, backticks, emphasis,
// brackets, newlines, HTML): attacker-written fields cannot break a table.
std::string EscapeMarkdown(std::string_view text);

}  // namespace sandwatch::harness
