// Report sections for Falco (where every alert of its file output ended) and for what each
// observer cost in the run. Read from the results folder, so `harness report` re-renders them.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "sandwatch/harness/falco.h"
#include "sandwatch/harness/results.h"
#include "sandwatch/harness/scorer.h"

namespace sandwatch::harness {

namespace {

using nlohmann::json;

std::string Fmt(double v, const char* f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::vector<std::string> Lines(const std::string& path, bool* exists) {
  std::ifstream in(path);
  *exists = static_cast<bool>(in);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// observer -> (cpu_s, rss_mib, wall_s) summed over cells (the sidecar runs once a cell).
struct CostRow {
  double cpu_s = 0, rss_mib = 0, wall_s = 0;
  int processes = 0;
};

std::map<std::string, CostRow> ReadCosts(const std::string& dir) {
  std::map<std::string, CostRow> rows;
  std::ifstream in(dir + "/observer-cost.json");
  if (!in) return rows;
  json j = json::parse(in, nullptr, false);
  if (!j.is_array()) return rows;
  for (const auto& c : j) {
    if (!c.is_object()) continue;
    CostRow& r = rows[c.value("observer", "?")];
    r.cpu_s += c.value("cpu_s", 0.0);
    r.rss_mib = std::max(r.rss_mib, c.value("rss_mib", 0.0));
    r.wall_s += c.value("wall_s", 0.0);
    r.processes += 1;
  }
  return rows;
}

}  // namespace

FalcoReportParts FalcoAndCostSections(const std::string& dir, const RunRecord& run,
                                      const Score& score) {
  FalcoReportParts parts;
  auto costs = ReadCosts(dir);
  if (!costs.empty()) {
    parts.markdown +=
        "\n## What each observer cost (same run)\n\n| observer | CPU s | CPU s per "
        "minute watched | peak RSS MiB | processes measured |\n|---|---|---|---|---|\n";
    parts.html +=
        "<h2>What each observer cost (same run)</h2><table><tr><th>observer</th><th>CPU "
        "s</th><th>CPU s per minute watched</th><th>peak RSS MiB</th><th>processes "
        "measured</th></tr>\n";
    for (const auto& [obs, r] : costs) {
      std::string per_min = r.wall_s > 0 ? Fmt(r.cpu_s / r.wall_s * 60, "%.2f") : "-";
      parts.markdown += "| " + EscapeMarkdown(obs) + " | " + Fmt(r.cpu_s, "%.2f") + " | " +
                        per_min + " | " + Fmt(r.rss_mib, "%.1f") + " | " +
                        std::to_string(r.processes) + " |\n";
      parts.html += "<tr><td>" + EscapeHtml(obs) + "</td><td>" + Fmt(r.cpu_s, "%.2f") +
                    "</td><td>" + per_min + "</td><td>" + Fmt(r.rss_mib, "%.1f") + "</td><td>" +
                    std::to_string(r.processes) + "</td></tr>\n";
    }
    parts.markdown +=
        "\nCPU is user+system time of the observer's own process (Falco's BPF programs run in "
        "the traced processes and are not included); RSS is the peak (VmHWM). The in-guest "
        "sidecar is measured once per cell, the run-wide observers once for the whole run.\n";
    parts.html += "</table>\n";
  }
  bool exists = false;
  auto lines = Lines(dir + "/" + std::string(kFalcoEventsFile), &exists);
  if (!exists) return parts;
  auto accounts = AccountFalcoAlerts(lines, run.cells, run.events, score);
  json j = FalcoAccountsJson(accounts);
  std::ofstream(dir + "/" + std::string(kFalcoAlertsFile), std::ios::trunc) << j.dump(2) << "\n";
  const auto& t = j["totals"];
  std::string head = std::to_string(accounts.size()) + " alert(s) in Falco's file output: " +
                     std::to_string(t.value("attributed", 0)) + " attributed to a step, " +
                     std::to_string(t.value("noise", 0)) + " noise, " +
                     std::to_string(t.value("unattributable", 0)) + " unattributable.";
  parts.markdown += "\n## Falco: every alert of its file output\n\n" + head +
                    "\n\n| time | rule | outcome | cell | step | signal | why |\n"
                    "|---|---|---|---|---|---|---|\n";
  parts.html += "<h2>Falco: every alert of its file output</h2><p>" + EscapeHtml(head) +
                "</p><table><tr><th>time</th><th>rule</th><th>outcome</th><th>cell</th>"
                "<th>step</th><th>signal</th><th>why</th></tr>\n";
  for (const auto& a : accounts) {
    parts.markdown += "| " + EscapeMarkdown(a.time) + " | " + EscapeMarkdown(a.rule) + " | " +
                      a.outcome + " | " + EscapeMarkdown(a.cell) + " | " + EscapeMarkdown(a.step) +
                      " | " + EscapeMarkdown(a.signal) + " | " + EscapeMarkdown(a.reason) + " |\n";
    parts.html += "<tr><td>" + EscapeHtml(a.time) + "</td><td>" + EscapeHtml(a.rule) + "</td><td>" +
                  EscapeHtml(a.outcome) + "</td><td>" + EscapeHtml(a.cell) + "</td><td>" +
                  EscapeHtml(a.step) + "</td><td>" + EscapeHtml(a.signal) + "</td><td>" +
                  EscapeHtml(a.reason) + "</td></tr>\n";
  }
  parts.html += "</table>\n";
  return parts;
}

}  // namespace sandwatch::harness
