// The run report's charts: coverage heatmap, detection latency and noise per observer.
// Standalone SVG documents (inlined in report.html too), drawn with the one SVG writer.
#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sandwatch/core/signals.h"
#include "sandwatch/harness/format.h"
#include "sandwatch/harness/report/svg.h"
#include "sandwatch/harness/results.h"

namespace sandwatch::harness {

namespace {

using report::Svg;

template <typename T>
void AddOnce(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

// The fill and label of one heatmap cell.
std::pair<std::string, std::string> CoverageCell(const CoverageEntry& c) {
  if (!c.available) return {"#dddddd", "absent"};
  if (!c.expected) {
    return c.cells_detected == 0 ? std::pair{"#c9d6e8", "blind"} : std::pair{"#f4a742", "seen?!"};
  }
  const std::string fill = c.cells_detected >= c.cells && c.cells > 0 ? "#5cb85c"
                           : c.cells_detected > 0                     ? "#f0ad4e"
                                                                      : "#d9534f";
  return {fill, std::to_string(c.cells_detected) + "/" + std::to_string(c.cells)};
}

// A row's label, right-aligned before the plot.
void Label(Svg& svg, double left, double y, const std::string& label, std::string_view fill) {
  svg.Text(left - 6, y + 13, label, 12, "end", fill);
}

// A horizontal bar and its value after it.
void Bar(Svg& svg, double x, double y, double w, double h, const std::string& fill,
         const std::string& value) {
  svg.Rect(x, y, w, h, fill);
  svg.Text(x + w + 4, y + 13, value);
}

}  // namespace

std::string CoverageHeatmapSvg(const Score& score) {
  std::vector<std::string> cols, rows, speeds, variants;
  std::map<std::pair<std::string, std::string>, const CoverageEntry*> cell;
  for (const auto& c : score.coverage) {
    AddOnce(speeds, c.speed);
    AddOnce(variants, c.variant);
  }
  for (const auto& c : score.coverage) {
    // runtime / observer, then speed and variant where the run had several.
    const std::string col = c.runtime + " / " + c.observer +
                            (speeds.size() > 1 ? " / " + c.speed : "") +
                            (variants.size() > 1 ? " / " + c.variant : "");
    AddOnce(cols, col);
    AddOnce(rows, c.signal);
    cell[{c.signal, col}] = &c;
  }
  // The six seed signals first, in the contract's order, then any others.
  std::vector<std::string> ordered;
  for (auto sig : signals::kSeedSignals) {
    if (std::find(rows.begin(), rows.end(), sig) != rows.end()) ordered.emplace_back(sig);
  }
  for (const auto& r : rows) AddOnce(ordered, r);
  const double left = 230, top = 150, cw = 92, ch = 30;
  const double width = std::max(700.0, left + static_cast<double>(cols.size()) * cw + 160);
  const double plot_bottom = top + static_cast<double>(ordered.size()) * ch;
  Svg svg(static_cast<int>(width), static_cast<int>(plot_bottom + 70),
          "Coverage: which observer detected which signal");
  svg.Heading(10, 20, "Coverage (detected cells / cells)", 15);
  const report::HeatGrid grid{left, top, cw, ch, 12, "#222", 8, "start", -40};
  svg.Heatmap(grid, cols, ordered, [&](size_t r, size_t i, double x, double y) {
    auto it = cell.find({ordered[r], cols[i]});
    const auto [fill, label] = it == cell.end() ? std::pair<std::string, std::string>{"#eeeeee", ""}
                                                : CoverageCell(*it->second);
    svg.Rect(x + 1, y + 1, cw - 2, ch - 2, fill);
    svg.Text(x + cw / 2, y + 19, label, 12, "middle");
  });
  svg.Text(10, plot_bottom + 25,
           "green: every cell detected; orange: some; red: none; grey: observer absent");
  svg.Text(10, plot_bottom + 41,
           "blue \"blind\": a host-level observer cannot see into the VM, as expected");
  return svg.Finish();
}

std::string LatencySvg(const Score& score) {
  std::vector<std::pair<std::string, double>> bars;
  for (const auto& c : score.coverage) {
    if (!c.latency_ms) continue;
    bars.emplace_back(c.runtime + " / " + c.observer + " / " + c.signal +
                          (c.speed.empty() ? "" : " (" + c.speed + ")"),
                      *c.latency_ms);
  }
  double max_ms = 1;
  for (const auto& b : bars) max_ms = std::max(max_ms, b.second);
  const double left = 380, top = 40, bh = 18, plot = 420;
  Svg svg(static_cast<int>(left + plot + 90),
          static_cast<int>(top + static_cast<double>(bars.size()) * (bh + 4) + 40),
          "Detection latency (median, step start to event)");
  svg.Heading(10, 20, "Detection latency, median ms from the step's start to the event", 15);
  if (bars.empty()) svg.Text(10, 50, "no detections");
  for (size_t i = 0; i < bars.size(); ++i) {
    const double w = std::max(1.0, std::floor(bars[i].second / max_ms * plot));
    const double y = top + static_cast<double>(i) * (bh + 4);
    Label(svg, left, y, bars[i].first, "#222");
    Bar(svg, left, y, w, bh, "#337ab7", Fixed(bars[i].second, 0) + " ms");
  }
  return svg.Finish();
}

std::string NoiseSvg(const Score& score) {
  const auto& ps = score.noise.precision;
  const double left = 200, top = 60, bh = 16, gap = 14, plot = 260, x2 = left + plot + 60;
  const double height = top + static_cast<double>(ps.size()) * (2 * bh + gap) + 40;
  Svg svg(static_cast<int>(left + 2 * plot + 160), static_cast<int>(height), "Noise per observer");
  svg.Heading(10, 20, "Noise: false positives on benign steps and background alerts per hour", 15);
  svg.Text(left, 45, "false positives / benign steps");
  svg.Text(x2, 45, "background alerts per hour");
  if (ps.empty()) svg.Text(10, 70, "no observer reported");
  double max_fp = 1, max_bg = 1;
  for (const auto& p : ps) {
    max_fp = std::max<double>(max_fp, std::max(p.benign_false_positives, BenignSteps(score, p)));
    max_bg = std::max(max_bg, BackgroundPerHour(p));
  }
  for (size_t i = 0; i < ps.size(); ++i) {
    const auto& p = ps[i];
    const double y = top + static_cast<double>(i) * (2 * bh + gap);
    const int steps = BenignSteps(score, p);
    const double bg = BackgroundPerHour(p);
    const double w_steps = std::floor(steps / max_fp * plot);
    const double w_fp = std::max(p.benign_false_positives > 0 ? 2.0 : 0.0,
                                 std::floor(p.benign_false_positives / max_fp * plot));
    const double w_bg = std::max(bg > 0 ? 2.0 : 0.0, std::floor(bg / max_bg * plot));
    Label(svg, left, y, p.runtime + " / " + p.observer, "#222");
    Label(svg, left, y + bh - 1, "precision " + PrecisionText(p), "#555");
    svg.Rect(left, y, w_steps, bh, "#dddddd");
    svg.Rect(left, y, w_fp, bh, "#d9534f");
    svg.Text(left + std::max(w_steps, w_fp) + 4, y + 13,
             std::to_string(p.benign_false_positives) + "/" + std::to_string(steps));
    Bar(svg, x2, y, w_bg, bh, "#f0ad4e",
        Fixed(bg, 0) + "/h (" + std::to_string(p.background_events) + ")");
  }
  if (!ps.empty()) {
    svg.Text(10, height - 12,
             "red: false positives; grey: benign steps played; orange: background alerts "
             "(harness machinery excluded)");
  }
  return svg.Finish();
}

}  // namespace sandwatch::harness
