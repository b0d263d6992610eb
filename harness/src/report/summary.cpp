// summary.json, the blog table and the Markdown and HTML escapers.
#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <set>

#include "sandwatch/core/clock.h"
#include "sandwatch/core/signals.h"
#include "sandwatch/harness/expect.h"
#include "sandwatch/harness/format.h"
#include "sandwatch/harness/results.h"

namespace sandwatch::harness {

using nlohmann::json;

std::string EscapeHtml(std::string_view text) {
  static constexpr std::string_view kSpecial = "&<>\"'";
  static constexpr std::array<std::string_view, 5> kEntities = {"&amp;", "&lt;", "&gt;", "&quot;",
                                                                "&#39;"};
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (const size_t i = kSpecial.find(c); i != std::string_view::npos) {
      out += kEntities.at(i);
    } else {
      const bool control = static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t';
      out += control ? std::string("&#xFFFD;") : std::string(1, c);
    }
  }
  return out;
}

std::string EscapeMarkdown(std::string_view text) {
  std::string out;
  for (char c : text) {
    // A backslash is escaped too: else it could un-escape the '|' after it.
    if (c != '\0' && std::strchr("\\#|`*_[]", c) != nullptr) {
      out += '\\';
      out += c;
    } else if (c == '<' || c == '>' || c == '&') {
      out += EscapeHtml(std::string_view(&c, 1));
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    }
  }
  return out;
}

namespace {

struct TableCell {
  int cells = 0, detected = 0;
  bool expected = true, available = true;
  std::vector<double> lats;
};

// (runtime, observer) columns in a fixed order, with aggregated cells per signal.
struct BlogGrid {
  std::vector<std::pair<std::string, std::string>> cols;
  std::map<std::tuple<std::string, std::string, std::string>, TableCell> at;
};

BlogGrid MakeGrid(const Score& score) {
  BlogGrid g;
  std::set<std::pair<std::string, std::string>> ran;
  for (const auto& r : score.results) ran.emplace(r.runtime, r.observer);
  // A benign-only run has no coverage rows: its columns come from the noise score.
  for (const auto& p : score.noise.precision) ran.emplace(p.runtime, p.observer);
  for (const char* rt : {"runc", "kata-qemu", "host"}) {
    for (const char* obs : {"host-view", "in-guest", "falco"}) {
      if (ran.count({rt, obs}) != 0) g.cols.emplace_back(rt, obs);
    }
  }
  for (const auto& r : score.results) {
    auto& c = g.at[{r.signal, r.runtime, r.observer}];
    c.cells += 1;
    c.expected = r.expected;
    c.available = r.observer_available;
    if (r.detected) {
      c.detected += 1;
      if (r.latency_ms) c.lats.push_back(*r.latency_ms);
    }
  }
  return g;
}

std::string CellText(const BlogGrid& g, std::string_view sig, const std::string& rt,
                     const std::string& obs) {
  auto it = g.at.find({std::string(sig), rt, obs});
  if (it == g.at.end()) return "not run";
  const TableCell& c = it->second;
  if (!c.available) return "absent";
  std::string t = c.detected == c.cells ? "YES" : c.detected == 0 ? "no" : "PARTIAL";
  if (c.cells > 1) t += " " + std::to_string(c.detected) + "/" + std::to_string(c.cells);
  if (!c.lats.empty()) {
    std::vector<double> l = c.lats;
    std::sort(l.begin(), l.end());
    t += " (" + FormatMs(l[l.size() / 2]) + ")";
  }
  if (!c.expected && c.detected == 0) t += " [blind]";
  return t;
}

// The blog table's noise cell: "2 FP/3 benign; 5 bg (12/h)".
std::string NoiseCellText(const Score& score, const PrecisionEntry& p) {
  return std::to_string(p.benign_false_positives) + " FP/" + std::to_string(BenignSteps(score, p)) +
         " benign; " + std::to_string(p.background_events) + " bg (" +
         Fixed(BackgroundPerHour(p), 0) + "/h)";
}

// kata-qemu* marks the local stand-in; on a cluster the column is the real runtime class.
std::string ColName(const std::pair<std::string, std::string>& c, bool stand_in) {
  return (c.first == "kata-qemu" && stand_in ? std::string("kata-qemu*") : c.first) + " " +
         c.second;
}

}  // namespace

// The table, then the notes under it.
report::Doc BlogDoc(const RunRecord& run, const Score& score) {
  BlogGrid g = MakeGrid(score);
  const bool stand_in = RanLocalStandIn(run);
  std::vector<report::Row> rows(1, report::Row{"signal"});
  for (const auto& c : g.cols) rows[0].emplace_back(ColName(c, stand_in));
  for (auto sig : signals::kSeedSignals) {
    rows.push_back({std::string(sig)});
    for (const auto& c : g.cols) rows.back().emplace_back(CellText(g, sig, c.first, c.second));
  }
  rows.push_back({"noise (FP on benign; background)"});
  rows.push_back({"precision [95% CI]"});
  for (const auto& c : g.cols) {
    const auto p = std::find_if(
        score.noise.precision.begin(), score.noise.precision.end(),
        [&c](const PrecisionEntry& e) { return e.runtime == c.first && e.observer == c.second; });
    const bool absent = p == score.noise.precision.end();
    rows[rows.size() - 2].emplace_back(absent ? "absent" : NoiseCellText(score, *p));
    rows.back().emplace_back(absent ? "absent" : PrecisionText(*p));
  }
  report::Doc d;
  d.Table(rows.front(), {rows.begin() + 1, rows.end()});
  if (stand_in && std::any_of(g.cols.begin(), g.cols.end(),
                              [](const auto& c) { return c.first == "kata-qemu"; })) {
    d.Para(
        "* kata-qemu here is a LOCAL STAND-IN: a qemu/TCG VM with its own guest kernel (the "
        "same isolation boundary as Kata), not Kata itself.");
  }
  d.Para(
      "host-view: sandwatch-sensor --mode node on the host, standing where host Falco "
      "stands. [blind] = cannot see into the VM, as expected.");
  d.Para(
      "noise: FP = alerts on benign steps (of the benign steps played); bg = alerts outside "
      "every step, per hour watched (the harness's own machinery excluded). precision = true "
      "positives / all alerts, Wilson 95% interval.");
  return d;
}

std::string BlogTable(const RunRecord& run, const Score& score, bool markdown) {
  const report::Doc d = BlogDoc(run, score);
  if (markdown) return report::ToMarkdown(d);
  std::string out;
  for (const auto& b : d.blocks()) {
    out += b.kind == report::Block::Kind::kTable ? report::ToPlainTable(b.rows)
                                                 : b.text.Plain() + "\n";
  }
  return out;
}

// summary.json keys are the field names.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CoverageEntry, runtime, observer, signal, speed, variant,
                                   expected, available, detected, cells, cells_detected, latency_ms)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ShortLivedMiss, cell, observer, signal, step, hold_ms)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FindingVerdict, applicable, holds, problems, not_judged)

json SummaryJson(const RunRecord& run, const Score& score) {
  json cells = json::array();
  for (const auto& c : run.cells) {
    cells.push_back({{"id", c.cell.Id()},
                     {"runtime", c.cell.runtime},
                     {"ok", c.ok},
                     {"error", c.error},
                     {"seconds", static_cast<double>(c.end_wall_ns - c.start_wall_ns) / 1e9}});
  }
  json summary{{"run_id", run.run_id},
               {"scenario", run.scenario},
               {"backend", run.backend},
               {"started", FormatRfc3339(run.started_wall_ns)},
               {"finished", FormatRfc3339(run.finished_wall_ns)},
               {"coverage", score.coverage},
               {"sweep", json::array()},
               {"short_lived_missed", score.short_lived_missed},
               {"unmatched_events", score.unmatched_events},
               {"cells", cells},
               {"expect", run.expect},
               {"blog_finding", JudgeExpectations(run.expect, score, run.cells)}};
  summary.update(NoiseSummaryJson(score));  // noise, precision, background_examples, ...
  return summary;
}

}  // namespace sandwatch::harness
