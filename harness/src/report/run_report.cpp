// Writes report.md, report.html (self-contained), summary.json and the charts of a run,
// all from one document.
#include <filesystem>
#include <map>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/files.h"
#include "sandwatch/harness/expect.h"
#include "sandwatch/harness/falco.h"
#include "sandwatch/harness/format.h"
#include "sandwatch/harness/results.h"

namespace sandwatch::harness {

using nlohmann::json;

namespace {

std::string Verdict(const SignalResult& r) {
  if (!r.observer_available) return "absent";
  if (r.detected) return r.expected ? "detected" : "SEEN (unexpected)";
  return r.expected ? "MISSED" : "blind (expected)";
}

std::string EnvScalar(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string FindingText(const FindingVerdict& v) {
  std::string t = v.applicable ? (v.holds ? "holds" : "does not hold") : "not judged";
  if (!v.problems.empty()) t += " - " + v.problems;
  if (!v.not_judged.empty()) t += " (not judged: " + v.not_judged + ")";
  return t;
}

void AddHeader(report::Doc& d, const RunRecord& run, const Score& score) {
  d.Heading(1, "sandwatch run " + run.run_id);
  std::vector<report::Text> facts{
      {"scenario: ", report::Code(run.scenario), " (" + run.scenario_path + ")"},
      "backend: " + run.backend,
      "started " + FormatRfc3339(run.started_wall_ns) + ", finished " +
          FormatRfc3339(run.finished_wall_ns)};
  if (!run.description.empty()) facts.emplace_back(run.description);
  d.List(std::move(facts));
  d.Heading(2, "The blog's table").Append(BlogDoc(run, score));
  if (!run.expect.empty()) {
    const FindingVerdict v = JudgeExpectations(run.expect, score, run.cells);
    d.Para({"Expected finding (the scenario's expect: " + DescribeExpectations(run.expect) + "): ",
            report::Span(FindingText(v), report::Style::kStrong,
                         v.holds ? report::Tone::kOk : report::Tone::kBad)});
  }
}

void AddCellsAndSignals(report::Doc& d, const RunRecord& run, const Score& score) {
  std::vector<report::Row> cells, observers, signals;
  for (const auto& c : run.cells) {
    std::string notes = Join(c.notes, "; ");
    if (!c.error.empty()) notes = "error: " + c.error + (notes.empty() ? "" : "; " + notes);
    cells.push_back({c.cell.Id(), c.ok ? "yes" : "NO",
                     Fixed(static_cast<double>(c.end_wall_ns - c.start_wall_ns) / 1e9, 1), notes});
    for (const auto& b : c.observers) {
      observers.push_back({c.cell.Id(), b.observer, b.label, Join(b.capture_active, ", "),
                           b.available ? "yes" : "no: " + b.reason});
    }
  }
  d.Heading(2, "Cells").Table({"cell", "ok", "seconds", "notes"}, std::move(cells));
  d.Heading(2, "Observers")
      .Table({"cell", "observer", "what it is", "capture active", "available"},
             std::move(observers));
  std::map<std::string, const Event*> by_id;
  for (const auto& e : run.events) by_id[e.id] = &e;
  for (const auto& r : score.results) {
    auto ev = by_id.find(r.first_event_id);
    signals.push_back(
        {r.cell_id, r.observer, r.signal, report::Toned(Verdict(r), r.detected == r.expected),
         r.latency_ms ? Fixed(*r.latency_ms, 0) : "", r.basis, std::to_string(r.events), r.step,
         Fixed(r.hold_ms, 0), Join(r.command, " "), ev == by_id.end() ? "" : ev->second->output});
  }
  d.Heading(2, "Every signal, every cell")
      .Table({"cell", "observer", "signal", "verdict", "latency ms", "match", "events", "step",
              "hold ms", "command", "first event"},
             std::move(signals));
  d.Heading(2, "Short-lived processes missed");
  std::vector<report::Text> missed;
  for (const auto& m : score.short_lived_missed) {
    missed.emplace_back(m.cell + " " + m.observer + ": " + m.signal + " (step " + m.step +
                        ", lived " + Fixed(m.hold_ms, 0) + " ms)");
  }
  missed.empty() ? d.Para("None.") : d.List(std::move(missed));
  d.Para(std::to_string(score.unmatched_events) +
         " event(s) inside cell windows matched no step of the chain (other activity on the "
         "machine, or rules beyond the chain).");
}

report::Doc RunDoc(const std::string& dir, const RunRecord& run, const Score& score) {
  report::Doc d;
  AddHeader(d, run, score);
  d.Chart("coverage", "coverage.svg", CoverageHeatmapSvg(score));
  d.Chart("noise", "noise.svg", NoiseSvg(score));
  d.Chart("latency", "latency.svg", LatencySvg(score));
  d.Append(NoiseDoc(score));
  AddCellsAndSignals(d, run, score);
  std::vector<report::Text> env;
  for (const auto& [k, v] : run.environment.items()) env.emplace_back(k + ": " + EnvScalar(v));
  d.Heading(2, "Environment").List(std::move(env));
  return d.Append(FalcoAndCostSections(dir, run, score));
}

}  // namespace

Status WriteDoc(const std::string& dir, const report::Doc& doc, const std::string& title) {
  for (const auto& b : doc.blocks()) {
    if (b.kind != report::Block::Kind::kChart) continue;
    if (auto s = WriteFileAtomic(dir + "/" + b.file, b.svg); !s.ok()) return s;
  }
  if (auto s = WriteFileAtomic(dir + "/report.md", report::ToMarkdown(doc)); !s.ok()) return s;
  return WriteFileAtomic(dir + "/report.html", report::ToHtml(doc, title));
}

Status WriteReports(const std::string& dir, const RunRecord& run, const Score& score) {
  for (const auto& [name, text] : {std::pair{"attribution.jsonl", AttributionJsonl(score)},
                                   {"summary.json", SummaryJson(run, score).dump(2) + "\n"}}) {
    if (auto s = WriteFileAtomic(dir + "/" + name, text); !s.ok()) return s;
  }
  return WriteDoc(dir, RunDoc(dir, run, score), "sandwatch run " + run.run_id);
}

}  // namespace sandwatch::harness
