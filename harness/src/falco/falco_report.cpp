// Report sections for Falco (where every alert of its file output ended) and for what each
// observer cost in the run. Read from the results folder, so `harness report` re-renders them.
#include "sandwatch/core/files.h"
#include "sandwatch/harness/falco.h"
#include "sandwatch/harness/format.h"
#include "sandwatch/harness/results.h"
#include "sandwatch/harness/scorer.h"

namespace sandwatch::harness {

namespace {

using nlohmann::json;

// observer -> (cpu_s, rss_mib, wall_s) summed over cells (the sidecar runs once a cell).
struct CostRow {
  double cpu_s = 0, rss_mib = 0, wall_s = 0;
  int processes = 0;
};

std::map<std::string, CostRow> ReadCosts(const std::string& dir) {
  std::map<std::string, CostRow> rows;
  // A missing or damaged file is no table.
  const json j =
      json::parse(ReadFileToString(dir + "/observer-cost.json").value_or(""), nullptr, false);
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

report::Doc FalcoAndCostSections(const std::string& dir, const RunRecord& run, const Score& score) {
  report::Doc d;
  std::vector<report::Row> rows;
  for (const auto& [obs, r] : ReadCosts(dir)) {
    rows.push_back({obs, Fixed(r.cpu_s, 2), r.wall_s > 0 ? Fixed(r.cpu_s / r.wall_s * 60, 2) : "-",
                    Fixed(r.rss_mib, 1), std::to_string(r.processes)});
  }
  if (!rows.empty()) {
    d.Heading(2, "What each observer cost (same run)")
        .Table(
            {"observer", "CPU s", "CPU s per minute watched", "peak RSS MiB", "processes measured"},
            std::move(rows))
        .Para(
            "CPU is user+system time of the observer's own process (Falco's BPF programs run in "
            "the traced processes and are not included); RSS is the peak (VmHWM). The in-guest "
            "sidecar is measured once per cell, the run-wide observers once for the whole run.");
  }
  auto events = ReadFileToString(dir + "/" + std::string(kFalcoEventsFile));
  if (!events.ok()) return d;
  auto accounts = AccountFalcoAlerts(SplitLines(*events), run.cells, run.events, score);
  json j = FalcoAccountsJson(accounts);
  (void)WriteFileAtomic(dir + "/" + std::string(kFalcoAlertsFile), j.dump(2) + "\n");
  const auto& t = j["totals"];
  d.Heading(2, "Falco: every alert of its file output")
      .Para(std::to_string(accounts.size()) +
            " alert(s) in Falco's file output: " + std::to_string(t.value("attributed", 0)) +
            " attributed to a step, " + std::to_string(t.value("noise", 0)) + " noise, " +
            std::to_string(t.value("unattributable", 0)) + " unattributable.");
  rows.clear();
  for (const auto& a : accounts) {
    rows.push_back({a.time, a.rule, a.outcome, a.cell, a.step, a.signal, a.reason});
  }
  d.Table({"time", "rule", "outcome", "cell", "step", "signal", "why"}, std::move(rows));
  return d;
}

}  // namespace sandwatch::harness
