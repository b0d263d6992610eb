// SVG charts for the run reports: coverage heatmap and detection latency.
// Standalone documents (inline in report.html too); every text is escaped.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sandwatch/core/signals.h"
#include "sandwatch/harness/results.h"

namespace sandwatch::harness {

namespace {

std::string Fmt(double v, int prec = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

std::string ColumnLabel(const CoverageEntry& c, bool with_speed, bool with_variant) {
  std::string l = c.runtime + " / " + c.observer;
  if (with_speed) l += " / " + c.speed;
  if (with_variant) l += " / " + c.variant;
  return l;
}

}  // namespace

std::string CoverageHeatmapSvg(const Score& score) {
  std::vector<std::string> cols;
  std::vector<std::string> rows;
  std::map<std::pair<std::string, std::string>, const CoverageEntry*> cell;
  std::set<std::string> speeds, variants;
  for (const auto& c : score.coverage) {
    speeds.insert(c.speed);
    variants.insert(c.variant);
  }
  for (const auto& c : score.coverage) {
    std::string col = ColumnLabel(c, speeds.size() > 1, variants.size() > 1);
    if (std::find(cols.begin(), cols.end(), col) == cols.end()) cols.push_back(col);
    if (std::find(rows.begin(), rows.end(), c.signal) == rows.end()) rows.push_back(c.signal);
    cell[{c.signal, col}] = &c;
  }
  // The six seed signals first, in the contract's order, then any others.
  std::vector<std::string> ordered;
  for (auto sig : signals::kSeedSignals) {
    if (std::find(rows.begin(), rows.end(), sig) != rows.end()) ordered.emplace_back(sig);
  }
  for (const auto& r : rows) {
    if (std::find(ordered.begin(), ordered.end(), r) == ordered.end()) ordered.push_back(r);
  }
  rows = ordered;
  const int left = 230, top = 150, cw = 92, ch = 30;
  int width = std::max(700, left + static_cast<int>(cols.size()) * cw + 160);
  int height = top + static_cast<int>(rows.size()) * ch + 70;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
                  "\" height=\"" + std::to_string(height) +
                  "\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n"
                  "<title>Coverage: which observer detected which signal</title>\n";
  s += "<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">Coverage (detected cells / "
       "cells)</text>\n";
  for (size_t i = 0; i < cols.size(); ++i) {
    int x = left + static_cast<int>(i) * cw + cw / 2;
    s += "<text transform=\"translate(" + std::to_string(x) + "," + std::to_string(top - 8) +
         ") rotate(-40)\">" + EscapeHtml(cols[i]) + "</text>\n";
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    int y = top + static_cast<int>(r) * ch;
    s += "<text x=\"" + std::to_string(left - 8) + "\" y=\"" + std::to_string(y + 19) +
         "\" text-anchor=\"end\">" + EscapeHtml(rows[r]) + "</text>\n";
    for (size_t i = 0; i < cols.size(); ++i) {
      int x = left + static_cast<int>(i) * cw;
      auto it = cell.find({rows[r], cols[i]});
      std::string fill = "#eeeeee", label = "";
      if (it != cell.end()) {
        const CoverageEntry& c = *it->second;
        double rate = c.cells > 0 ? static_cast<double>(c.cells_detected) / c.cells : 0;
        if (!c.available) {
          fill = "#dddddd";
          label = "absent";
        } else if (!c.expected) {
          fill = c.cells_detected == 0 ? "#c9d6e8" : "#f4a742";
          label = c.cells_detected == 0 ? "blind" : "seen?!";
        } else {
          fill = rate >= 1 ? "#5cb85c" : rate > 0 ? "#f0ad4e" : "#d9534f";
          label = std::to_string(c.cells_detected) + "/" + std::to_string(c.cells);
        }
      }
      s += "<rect x=\"" + std::to_string(x + 1) + "\" y=\"" + std::to_string(y + 1) +
           "\" width=\"" + std::to_string(cw - 2) + "\" height=\"" + std::to_string(ch - 2) +
           "\" fill=\"" + fill + "\"/>\n";
      s += "<text x=\"" + std::to_string(x + cw / 2) + "\" y=\"" + std::to_string(y + 19) +
           "\" text-anchor=\"middle\">" + EscapeHtml(label) + "</text>\n";
    }
  }
  int ly = top + static_cast<int>(rows.size()) * ch + 25;
  s += "<text x=\"10\" y=\"" + std::to_string(ly) +
       "\">green: every cell detected; orange: some; red: none; grey: observer absent</text>\n";
  s += "<text x=\"10\" y=\"" + std::to_string(ly + 16) +
       "\">blue \"blind\": a host-level observer cannot see into the VM, as expected</text>\n";
  s += "</svg>\n";
  return s;
}

std::string LatencySvg(const Score& score) {
  struct Bar {
    std::string label;
    double ms;
  };
  std::vector<Bar> bars;
  for (const auto& c : score.coverage) {
    if (c.latency_ms) {
      bars.push_back({c.runtime + " / " + c.observer + " / " + c.signal +
                          (c.speed.empty() ? "" : " (" + c.speed + ")"),
                      *c.latency_ms});
    }
  }
  double max_ms = 1;
  for (const auto& b : bars) max_ms = std::max(max_ms, b.ms);
  const int left = 380, top = 40, bh = 18, plot = 420;
  int height = top + static_cast<int>(bars.size()) * (bh + 4) + 40;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  std::to_string(left + plot + 90) + "\" height=\"" + std::to_string(height) +
                  "\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n"
                  "<title>Detection latency (median, step start to event)</title>\n"
                  "<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">Detection "
                  "latency, median ms from the step's start to the event</text>\n";
  if (bars.empty()) {
    s += "<text x=\"10\" y=\"50\">no detections</text>\n</svg>\n";
    return s;
  }
  for (size_t i = 0; i < bars.size(); ++i) {
    int y = top + static_cast<int>(i) * (bh + 4);
    int w = std::max(1, static_cast<int>(bars[i].ms / max_ms * plot));
    s += "<text x=\"" + std::to_string(left - 6) + "\" y=\"" + std::to_string(y + 13) +
         "\" text-anchor=\"end\">" + EscapeHtml(bars[i].label) + "</text>\n";
    s += "<rect x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
         std::to_string(w) + "\" height=\"" + std::to_string(bh) + "\" fill=\"#337ab7\"/>\n";
    s += "<text x=\"" + std::to_string(left + w + 4) + "\" y=\"" + std::to_string(y + 13) + "\">" +
         Fmt(bars[i].ms, 0) + " ms</text>\n";
  }
  s += "</svg>\n";
  return s;
}

}  // namespace sandwatch::harness
