// The poll-interval sweep's SVG charts, drawn with the one SVG writer.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <set>

#include "sandwatch/harness/format.h"
#include "sandwatch/harness/report/svg.h"
#include "sandwatch/harness/tune/report.h"

namespace sandwatch::harness::tune {
namespace {

using report::RateColor;
using report::Scale;
using report::SeriesColor;
using report::Svg;

// Axis labels.
std::string FmtMs(double v) { return v >= 1000 ? Compact(v / 1000) + "s" : Compact(v) + "ms"; }
std::string FmtS(double v) { return Compact(v) + "s"; }
std::string FmtPct0(double v) { return Fixed(v * 100, 0) + "%"; }
std::string FmtPctLog(double v) { return Compact(v) + "%"; }

std::vector<SweepCell> Select(const std::vector<SweepCell>& cells, const std::string& capture) {
  std::vector<SweepCell> out;
  std::copy_if(cells.begin(), cells.end(), std::back_inserter(out),
               [&](const SweepCell& c) { return c.capture == capture; });
  return out;
}

std::map<double, std::vector<SweepCell>> ByInterval(const std::vector<SweepCell>& cells) {
  std::map<double, std::vector<SweepCell>> m;
  for (const auto& c : cells) m[c.poll_interval_s].push_back(c);
  for (auto& [p, v] : m) {
    std::sort(v.begin(), v.end(),
              [](const SweepCell& a, const SweepCell& b) { return a.lifetime_ms < b.lifetime_ms; });
  }
  return m;
}

// The scan duration the model uses for an interval: the poll cells' median, else any cell's.
double ScanFor(const std::vector<SweepCell>& all, double p) {
  std::vector<double> poll, any;
  for (const auto& c : all) {
    if (std::fabs(c.poll_interval_s - p) >= 1e-9) continue;
    any.push_back(c.scan_s);
    if (c.capture == "poll") poll.push_back(c.scan_s);
  }
  const std::vector<double>& s = poll.empty() ? any : poll;
  return s.empty() ? 0 : Percentile(s, 0.5);
}

// A sweep chart's canvas with its bold heading.
Svg Chart(int width, int height, const std::string& title, const std::string& heading) {
  Svg svg(width, height, title);
  svg.Heading(20, 22, heading, 14);
  return svg;
}

// A line chart's placeholder when no cell was measured.
std::string NoCells(Svg& svg) {
  svg.Text(360, 200, "no cells measured", 14, "middle");
  return svg.Finish();
}

// The y of a line chart's i-th legend row.
double LegendY(size_t i) { return 52 + 20.0 * static_cast<double>(i); }

}  // namespace

std::string MissCurvesSvg(const std::vector<SweepCell>& all, const std::string& capture) {
  const auto cells = Select(all, capture);
  const std::string title = "Miss rate vs process lifetime, capture " + capture;
  Svg svg = Chart(720, 400, title,
                  title + (capture == "poll" ? "" : " (dashed: pure polling at the same P)"));
  if (cells.empty()) return NoCells(svg);
  double lmin = 1e18, lmax = 0;
  for (const auto& c : cells) {
    lmin = std::min(lmin, static_cast<double>(c.lifetime_ms));
    lmax = std::max(lmax, static_cast<double>(c.lifetime_ms));
  }
  if (lmax <= lmin) lmax = lmin * 10;
  const Scale x{lmin / 1.3, lmax * 1.3, 70, 560, true};
  const Scale y{0, 1, 350, 40, false};
  svg.Axes(x, y, "process lifetime (log)", "miss rate", FmtMs, FmtPct0);
  size_t i = 0;
  for (const auto& [p, cs] : ByInterval(cells)) {
    const std::string color = SeriesColor(i);
    const double s = ScanFor(all, p);
    std::vector<std::pair<double, double>> model;
    for (int k = 0; k <= 80; ++k) {
      const double l = x.d0 * std::pow(x.d1 / x.d0, k / 80.0);
      model.emplace_back(x(l), y(1.0 - PollDetectProbability(l / 1000.0, p, s)));
    }
    svg.Polyline(model, color, 1.5, "6,4");
    std::vector<std::pair<double, double>> meas;
    for (const auto& c : cs) {
      const Proportion r = c.Rate();
      const double px = x(static_cast<double>(c.lifetime_ms));
      meas.emplace_back(px, y(1.0 - r.p));
      svg.Line(px, y(1.0 - r.lo), px, y(1.0 - r.hi), color, 1);
    }
    svg.Polyline(meas, color, 2.2);
    for (const auto& c : cs) {
      const double px = x(static_cast<double>(c.lifetime_ms));
      svg.Circle(px, y(c.Miss()), 3.5, color);
      if (c.Disagrees()) svg.Circle(px, y(c.Miss()), 7, "none", "#000");
    }
    svg.LegendLine(575, LegendY(i), "P = " + FmtS(p), 12, color, 2.2);
    ++i;
  }
  const double ly = LegendY(i) + 8;
  svg.LegendLine(575, ly, "model", 12, "#555", 1.5, "6,4");
  svg.Circle(587, ly + 20, 7, "none", "#000");
  svg.Text(606, ly + 24, "model outside CI", 11);
  return svg.Finish();
}

std::string HeatmapSvg(const std::vector<SweepCell>& all, const std::string& capture) {
  const auto cells = Select(all, capture);
  std::set<int64_t> ls;
  std::set<double> ps;
  for (const auto& c : cells) {
    ls.insert(c.lifetime_ms);
    ps.insert(c.poll_interval_s);
  }
  const double cw = 78, ch = 38, left = 90, top = 60;
  const int width =
      static_cast<int>(left + cw * static_cast<double>(std::max<size_t>(ls.size(), 1)) + 30);
  const int height =
      static_cast<int>(top + ch * static_cast<double>(std::max<size_t>(ps.size(), 1)) + 60);
  const std::string title = "Detection rate, lifetime x poll interval, capture " + capture;
  Svg svg = Chart(std::max(width, 420), height, title, title);
  svg.Text(20, 40,
           "cell: measured rate (model under polling); black frame: model outside the 95% CI", 11,
           "start", "#444");
  std::map<std::pair<double, int64_t>, SweepCell> at;
  for (const auto& c : cells) at[{c.poll_interval_s, c.lifetime_ms}] = c;
  const std::vector<int64_t> lv(ls.begin(), ls.end());
  const std::vector<double> pv(ps.begin(), ps.end());
  std::vector<std::string> cols, rows;
  for (int64_t l : ls) cols.push_back(FmtMs(static_cast<double>(l)));
  for (double p : ps) rows.push_back("P = " + FmtS(p));
  const auto draw = [&](size_t r, size_t col, double xx, double yy) {
    auto it = at.find({pv[r], lv[col]});
    if (it == at.end()) {
      svg.Rect(xx, yy, cw, ch, "#eee", "#fff");
      svg.Text(xx + cw / 2, yy + ch / 2 + 4, "-", 11, "middle", "#888");
      return;
    }
    const SweepCell& c = it->second;
    const double rate = c.Rate().p;
    svg.Rect(xx, yy, cw, ch, RateColor(rate), c.Disagrees() ? "#000" : "#fff",
             c.Disagrees() ? 2.5 : 1);
    svg.Text(xx + cw / 2, yy + 16, FmtPct0(rate), 12, "middle", "#111", true);
    svg.Text(xx + cw / 2, yy + 31, "(" + FmtPct0(c.model) + ") n=" + std::to_string(c.trials), 9,
             "middle", "#222");
  };
  svg.Heatmap({left, top, cw, ch, 11, "#444", 6}, cols, rows, draw);
  svg.Text(left + cw * static_cast<double>(ls.size()) / 2,
           top + ch * static_cast<double>(ps.size()) + 24, "process lifetime", 12, "middle");
  return svg.Finish();
}

std::string CpuSvg(const std::vector<SweepCell>& cells) {
  const std::string title = "Sensor CPU vs poll interval (% of one core)";
  Svg svg = Chart(720, 400, title, title);
  // capture -> interval -> (idle, load) in percent of a core
  std::map<std::string, std::map<double, std::pair<double, double>>> series;
  double pmin = 1e18, pmax = 0, vmin = 1e18, vmax = 0;
  for (const auto& c : cells) {
    const double idle = std::max(c.cpu_s_per_min / 60.0 * 100.0, 1e-3);
    const double load = std::max(c.load_cpu_s_per_min / 60.0 * 100.0, 1e-3);
    series[c.capture][c.poll_interval_s] = {idle, load};
    pmin = std::min(pmin, c.poll_interval_s);
    pmax = std::max(pmax, c.poll_interval_s);
    vmin = std::min({vmin, idle, load});
    vmax = std::max({vmax, idle, load});
  }
  if (series.empty()) return NoCells(svg);
  if (pmax <= pmin) pmax = pmin * 10;
  vmin = std::pow(10.0, std::floor(std::log10(vmin)));
  vmax = std::pow(10.0, std::ceil(std::log10(vmax)));
  if (vmax <= vmin) vmax = vmin * 10;
  const Scale x{pmin / 1.3, pmax * 1.3, 70, 540, true};
  const Scale y{vmin, vmax, 350, 40, true};
  svg.Axes(x, y, "poll interval P (log)", "sensor CPU, % of a core (log)", FmtS, FmtPctLog);
  size_t i = 0;
  for (const auto& [cap, pts] : series) {
    const std::string color = SeriesColor(i);
    std::vector<std::pair<double, double>> idle;
    std::vector<std::pair<double, double>> load;
    for (const auto& [p, v] : pts) {
      idle.emplace_back(x(p), y(v.first));
      load.emplace_back(x(p), y(v.second));
      svg.Circle(x(p), y(v.first), 3.5, color);
    }
    svg.Polyline(idle, color, 2.2);
    svg.Polyline(load, color, 1.5, "6,4");
    svg.LegendLine(555, LegendY(i), cap, 12, color, 2.2);
    ++i;
  }
  const double ly = LegendY(i) + 8;
  svg.LegendLine(555, ly, "idle", 11, "#555", 2.2);
  svg.LegendLine(555, ly + 18, "under trial load", 11, "#555", 1.5, "6,4");
  return svg.Finish();
}

}  // namespace sandwatch::harness::tune
