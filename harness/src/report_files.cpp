// Writes report.md, report.html (self-contained), summary.json and the charts.
#include <filesystem>
#include <fstream>
#include <map>

#include "sandwatch/core/clock.h"
#include "sandwatch/harness/expect.h"
#include "sandwatch/harness/falco.h"
#include "sandwatch/harness/results.h"

namespace sandwatch::harness {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Status Write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  if (!out) return MakeError("cannot write " + p.string(), errno);
  out << text;
  return out.flush() ? OkStatus() : MakeError("write failed: " + p.string(), errno);
}

std::string LatencyText(const SignalResult& r) {
  if (!r.latency_ms) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", *r.latency_ms);
  return buf;
}

std::string Cmd(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

std::string Verdict(const SignalResult& r) {
  if (!r.observer_available) return "absent";
  if (r.detected) return r.expected ? "detected" : "SEEN (unexpected)";
  return r.expected ? "MISSED" : "blind (expected)";
}

std::string EnvScalar(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string FindingText(const RunRecord& run, const Score& score) {
  FindingVerdict v = JudgeExpectations(run.expect, score, run.cells);
  if (run.expect.empty()) return "no expected finding (the scenario has no expect: matrix)";
  std::string t = v.applicable ? (v.holds ? "holds" : "does not hold") : "not judged";
  if (!v.problems.empty()) t += " - " + v.problems;
  if (!v.not_judged.empty()) t += " (not judged: " + v.not_judged + ")";
  return t;
}

std::string Markdown(const RunRecord& run, const Score& score) {
  std::string md = "# sandwatch run " + EscapeMarkdown(run.run_id) + "\n\n";
  md += "- scenario: `" + EscapeMarkdown(run.scenario) + "` (" + EscapeMarkdown(run.scenario_path) +
        ")\n";
  md += "- backend: " + EscapeMarkdown(run.backend) + "\n";
  md += "- started " + FormatRfc3339(run.started_wall_ns) + ", finished " +
        FormatRfc3339(run.finished_wall_ns) + "\n";
  if (!run.description.empty()) md += "- " + EscapeMarkdown(run.description) + "\n";
  md += "\n## The blog's table\n\n" + BlogTable(run, score, true) + "\n";
  if (!run.expect.empty()) {
    md += "Expected finding (the scenario's expect: " +
          EscapeMarkdown(DescribeExpectations(run.expect)) + "): **" +
          EscapeMarkdown(FindingText(run, score)) + "**\n\n";
  }
  md += "![coverage](coverage.svg) ![noise](noise.svg)\n\n![latency](latency.svg)\n\n";
  md += NoiseMarkdown(score);
  md += "## Cells\n\n| cell | ok | seconds | notes |\n|---|---|---|---|\n";
  for (const auto& c : run.cells) {
    std::string notes;
    for (const auto& n : c.notes) notes += (notes.empty() ? "" : "; ") + n;
    if (!c.error.empty()) notes = "error: " + c.error + (notes.empty() ? "" : "; " + notes);
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f",
                  static_cast<double>(c.end_wall_ns - c.start_wall_ns) / 1e9);
    md += "| " + EscapeMarkdown(c.cell.Id()) + " | " + (c.ok ? "yes" : "NO") + " | " + secs +
          " | " + EscapeMarkdown(notes) + " |\n";
  }
  md +=
      "\n## Observers\n\n| cell | observer | what it is | capture active | available "
      "|\n|---|---|---|---|---|\n";
  for (const auto& c : run.cells) {
    for (const auto& b : c.observers) {
      std::string cap;
      for (const auto& x : b.capture_active) cap += (cap.empty() ? "" : ", ") + x;
      md += "| " + EscapeMarkdown(c.cell.Id()) + " | " + EscapeMarkdown(b.observer) + " | " +
            EscapeMarkdown(b.label) + " | " + EscapeMarkdown(cap) + " | " +
            (b.available ? "yes" : "no: " + EscapeMarkdown(b.reason)) + " |\n";
    }
  }
  md +=
      "\n## Every signal, every cell\n\n| cell | observer | signal | verdict | latency ms | "
      "match | events | step | hold ms | command |\n|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : score.results) {
    char hold[32];
    std::snprintf(hold, sizeof hold, "%.0f", r.hold_ms);
    md += "| " + EscapeMarkdown(r.cell_id) + " | " + EscapeMarkdown(r.observer) + " | " +
          EscapeMarkdown(r.signal) + " | " + Verdict(r) + " | " + LatencyText(r) + " | " +
          EscapeMarkdown(r.basis) + " | " + std::to_string(r.events) + " | " +
          EscapeMarkdown(r.step) + " | " + hold + " | " + EscapeMarkdown(Cmd(r.command)) + " |\n";
  }
  md += "\n## Short-lived processes missed\n\n";
  if (score.short_lived_missed.empty()) md += "None.\n";
  for (const auto& m : score.short_lived_missed) {
    char hold[32];
    std::snprintf(hold, sizeof hold, "%.0f", m.hold_ms);
    md += "- " + EscapeMarkdown(m.cell_id) + " " + EscapeMarkdown(m.observer) + ": " +
          EscapeMarkdown(m.signal) + " (step " + EscapeMarkdown(m.step) + ", lived " + hold +
          " ms)\n";
  }
  md += "\n" + std::to_string(score.unmatched_events) +
        " event(s) inside cell windows matched no step of the chain (other activity on the "
        "machine, or rules beyond the chain).\n";
  md += "\n## Environment\n\n";
  for (const auto& [k, v] : run.environment.items()) {
    md += "- " + EscapeMarkdown(k) + ": " + EscapeMarkdown(EnvScalar(v)) + "\n";
  }
  return md;
}

std::string Html(const RunRecord& run, const Score& score, const std::string& heatmap,
                 const std::string& noise, const std::string& latency) {
  std::map<std::string, const Event*> by_id;
  for (const auto& e : run.events) by_id[e.id] = &e;
  FindingVerdict verdict = JudgeExpectations(run.expect, score, run.cells);
  std::string h =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'; img-src data:\">"
      "<title>sandwatch run " +
      EscapeHtml(run.run_id) +
      "</title><style>"
      "body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;"
      "margin:1em 0}td,th{border:1px solid #ccc;padding:3px 7px;font-size:13px;text-align:left}"
      "th{background:#f3f3f3}.ok{color:#2a7a2a;font-weight:bold}.bad{color:#b02020;font-weight:"
      "bold}.note{background:#fff8e0;padding:.6em;border-left:4px solid #e0b000}code{font-size:"
      "12px}</style></head><body>\n";
  h += "<h1>sandwatch run " + EscapeHtml(run.run_id) + "</h1>\n<p>scenario <code>" +
       EscapeHtml(run.scenario) + "</code>, backend " + EscapeHtml(run.backend) + ", " +
       EscapeHtml(FormatRfc3339(run.started_wall_ns)) + " to " +
       EscapeHtml(FormatRfc3339(run.finished_wall_ns)) + "</p>\n<p>" + EscapeHtml(run.description) +
       "</p>\n";
  if (RanLocalStandIn(run)) {
    h += "<p class=\"note\">kata-qemu in this run is a <b>local stand-in</b>: a qemu/TCG "
         "VM booting its own guest kernel. The isolation boundary (a separate guest kernel) is "
         "the same as Kata's; it is not Kata.</p>\n";
  }
  h += "<p>host-view is sandwatch-sensor --mode node on the host, standing where host Falco "
       "stands.</p>\n";
  h += "<h2>The blog's table</h2><pre>" + EscapeHtml(BlogTable(run, score, false)) + "</pre>\n";
  if (!run.expect.empty()) {
    h += std::string("<p>Expected finding (") + EscapeHtml(DescribeExpectations(run.expect)) +
         "): <span class=\"" + (verdict.holds ? "ok" : "bad") + "\">" +
         EscapeHtml(FindingText(run, score)) + "</span></p>\n";
  }
  h += "<h2>Charts</h2>\n" + heatmap + "\n" + noise + "\n" + latency + "\n";
  h += NoiseHtml(score);
  h += "<h2>Every signal, every cell</h2><table><tr><th>cell</th><th>observer</th><th>signal"
       "</th><th>verdict</th><th>latency ms</th><th>match</th><th>events</th><th>step</th>"
       "<th>hold ms</th><th>command</th><th>first event</th></tr>\n";
  for (const auto& r : score.results) {
    std::string ev;
    if (auto it = by_id.find(r.first_event_id); it != by_id.end()) ev = it->second->output;
    char hold[32];
    std::snprintf(hold, sizeof hold, "%.0f", r.hold_ms);
    bool good = r.detected == r.expected;
    h += "<tr><td>" + EscapeHtml(r.cell_id) + "</td><td>" + EscapeHtml(r.observer) + "</td><td>" +
         EscapeHtml(r.signal) + "</td><td class=\"" + (good ? "ok" : "bad") + "\">" +
         EscapeHtml(Verdict(r)) + "</td><td>" + LatencyText(r) + "</td><td>" + EscapeHtml(r.basis) +
         "</td><td>" + std::to_string(r.events) + "</td><td>" + EscapeHtml(r.step) + "</td><td>" +
         hold + "</td><td><code>" + EscapeHtml(Cmd(r.command)) + "</code></td><td><code>" +
         EscapeHtml(ev) + "</code></td></tr>\n";
  }
  h += "</table>\n<h2>Cells and observers</h2><table><tr><th>cell</th><th>ok</th><th>observer"
       "</th><th>what it is</th><th>capture active</th><th>available</th><th>notes</th></tr>\n";
  for (const auto& c : run.cells) {
    std::string notes = c.error;
    for (const auto& n : c.notes) notes += (notes.empty() ? "" : "; ") + n;
    for (const auto& b : c.observers) {
      std::string cap;
      for (const auto& x : b.capture_active) cap += (cap.empty() ? "" : ", ") + x;
      h += "<tr><td>" + EscapeHtml(c.cell.Id()) + "</td><td>" + (c.ok ? "yes" : "NO") +
           "</td><td>" + EscapeHtml(b.observer) + "</td><td>" + EscapeHtml(b.label) + "</td><td>" +
           EscapeHtml(cap) + "</td><td>" + (b.available ? "yes" : "no: " + EscapeHtml(b.reason)) +
           "</td><td>" + EscapeHtml(notes) + "</td></tr>\n";
    }
  }
  h += "</table>\n<h2>Short-lived processes missed</h2><ul>\n";
  if (score.short_lived_missed.empty()) h += "<li>none</li>\n";
  for (const auto& m : score.short_lived_missed) {
    char hold[32];
    std::snprintf(hold, sizeof hold, "%.0f", m.hold_ms);
    h += "<li>" +
         EscapeHtml(m.cell_id + " " + m.observer + ": " + m.signal + " (step " + m.step +
                    ", lived " + hold + " ms)") +
         "</li>\n";
  }
  h += "</ul>\n<h2>Environment</h2><table>\n";
  for (const auto& [k, v] : run.environment.items()) {
    h += "<tr><th>" + EscapeHtml(k) + "</th><td>" + EscapeHtml(EnvScalar(v)) + "</td></tr>\n";
  }
  h += "</table>\n</body></html>\n";
  return h;
}

}  // namespace

Status WriteReports(const std::string& dir, const RunRecord& run, const Score& score) {
  fs::path d(dir);
  std::string heat = CoverageHeatmapSvg(score);
  std::string lat = LatencySvg(score);
  std::string noise = NoiseSvg(score);
  if (auto s = Write(d / "coverage.svg", heat); !s.ok()) return s;
  if (auto s = Write(d / "latency.svg", lat); !s.ok()) return s;
  if (auto s = Write(d / "noise.svg", noise); !s.ok()) return s;
  if (auto s = Write(d / "attribution.jsonl", AttributionJsonl(score)); !s.ok()) return s;
  if (auto s = Write(d / "summary.json", SummaryJson(run, score).dump(2) + "\n"); !s.ok()) return s;
  FalcoReportParts falco = FalcoAndCostSections(dir, run, score);
  if (auto s = Write(d / "report.md", Markdown(run, score) + falco.markdown); !s.ok()) return s;
  std::string html = Html(run, score, heat, noise, lat);
  html.insert(html.rfind("</body>"), falco.html);
  return Write(d / "report.html", html);
}

}  // namespace sandwatch::harness
