#include "sandwatch/harness/report/svg.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "sandwatch/harness/format.h"
#include "sandwatch/harness/results.h"

namespace sandwatch::harness::report {
namespace {

// Text and attribute values go through the harness's HTML escaper, which serves XML too.
std::string Num(double v) { return Fixed(v, 1); }

// ` stroke="S" stroke-width="W"` and ` stroke-dasharray="D"` when dashed.
std::string StrokeAttrs(std::string_view stroke, double width, std::string_view dash = "") {
  std::string out = " stroke=\"" + EscapeHtml(stroke) + "\" stroke-width=\"" + Num(width) + "\"";
  if (!dash.empty()) out += " stroke-dasharray=\"" + EscapeHtml(dash) + "\"";
  return out;
}

}  // namespace

double Scale::operator()(double v) const {
  double t = 0;
  if (log) {
    const double lv = std::log10(std::max(v, 1e-12));
    t = (lv - std::log10(d0)) / (std::log10(d1) - std::log10(d0));
  } else {
    t = (v - d0) / (d1 - d0);
  }
  return p0 + (p1 - p0) * t;
}

std::vector<double> Ticks(const Scale& s) {
  std::vector<double> out;
  if (s.log) {
    const int e0 = static_cast<int>(std::floor(std::log10(s.d0)));
    const int e1 = static_cast<int>(std::ceil(std::log10(s.d1)));
    for (int e = e0; e <= e1; ++e) {
      for (double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10.0, e);
        if (v >= s.d0 * (1 - 1e-9) && v <= s.d1 * (1 + 1e-9)) out.push_back(v);
      }
    }
  } else {
    for (int i = 0; i <= 5; ++i) out.push_back(s.d0 + (s.d1 - s.d0) * i / 5.0);
  }
  return out;
}

std::string SeriesColor(size_t i) {
  static const std::array<const char*, 8> kColors = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                     "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  return kColors[i % kColors.size()];
}

std::string RateColor(double rate) {
  rate = std::clamp(rate, 0.0, 1.0);
  // #d73027 -> #fee08b -> #1a9850, mixed linearly within each half.
  static constexpr std::array<std::array<int, 3>, 3> kStops = {
      {{0xd7, 0x30, 0x27}, {0xfe, 0xe0, 0x8b}, {0x1a, 0x98, 0x50}}};
  const size_t half = rate < 0.5 ? 0 : 1;
  const double t = (rate - 0.5 * static_cast<double>(half)) / 0.5;
  const auto mix = [&](size_t c) {
    const int a = kStops.at(half).at(c), b = kStops.at(half + 1).at(c);
    return static_cast<int>(std::lround(a + (b - a) * t));
  };
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "#%02x%02x%02x", mix(0), mix(1), mix(2));
  return buf.data();
}

Svg::Svg(int width, int height, std::string_view title) {
  out_ = R"(<svg xmlns="http://www.w3.org/2000/svg" width=")" + std::to_string(width) +
         "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) +
         " " + std::to_string(height) +
         "\" font-family=\"DejaVu Sans, Arial, sans-serif\" role=\"img\">\n<title>" +
         EscapeHtml(title) + "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
}

void Svg::Line(double x1, double y1, double x2, double y2, std::string_view stroke, double width,
               std::string_view dash) {
  out_ += "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" + Num(x2) + "\" y2=\"" +
          Num(y2) + "\"" + StrokeAttrs(stroke, width, dash) + "/>\n";
}

void Svg::Polyline(const std::vector<std::pair<double, double>>& pts, std::string_view stroke,
                   double width, std::string_view dash) {
  if (pts.size() < 2) return;
  out_ += "<polyline fill=\"none\"" + StrokeAttrs(stroke, width, dash);
  out_ += " points=\"";
  for (const auto& [x, y] : pts) out_ += Num(x) + "," + Num(y) + " ";
  out_ += "\"/>\n";
}

void Svg::Circle(double x, double y, double r, std::string_view fill, std::string_view stroke) {
  out_ += "<circle cx=\"" + Num(x) + "\" cy=\"" + Num(y) + "\" r=\"" + Num(r) + "\" fill=\"" +
          EscapeHtml(fill) + "\"" + StrokeAttrs(stroke, 1.5) + "/>\n";
}

void Svg::Rect(double x, double y, double w, double h, std::string_view fill,
               std::string_view stroke, double stroke_width) {
  out_ += "<rect x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" width=\"" + Num(w) + "\" height=\"" +
          Num(h) + "\" fill=\"" + EscapeHtml(fill) + "\"" + StrokeAttrs(stroke, stroke_width) +
          "/>\n";
}

void Svg::Text(double x, double y, std::string_view text, int size, std::string_view anchor,
               std::string_view fill, bool bold, double rotate) {
  out_ += "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" font-size=\"" + std::to_string(size) +
          "\" text-anchor=\"" + EscapeHtml(anchor) + "\" fill=\"" + EscapeHtml(fill) + "\"";
  if (bold) out_ += " font-weight=\"bold\"";
  if (rotate != 0) {
    out_ += " transform=\"rotate(" + Num(rotate) + " " + Num(x) + " " + Num(y) + ")\"";
  }
  out_ += ">" + EscapeHtml(text) + "</text>\n";
}

void Svg::Axes(const Scale& x, const Scale& y, std::string_view x_title, std::string_view y_title,
               std::string (*fmt_x)(double), std::string (*fmt_y)(double)) {
  const double left = std::min(x.p0, x.p1);
  const double right = std::max(x.p0, x.p1);
  const double top = std::min(y.p0, y.p1);
  const double bottom = std::max(y.p0, y.p1);
  for (double t : Ticks(x)) {
    const double px = x(t);
    Line(px, top, px, bottom, "#e5e5e5");
    Line(px, bottom, px, bottom + 4, "#444");
    Text(px, bottom + 17, fmt_x(t), 11, "middle", "#444");
  }
  for (double t : Ticks(y)) {
    const double py = y(t);
    Line(left, py, right, py, "#e5e5e5");
    Line(left - 4, py, left, py, "#444");
    Text(left - 7, py + 4, fmt_y(t), 11, "end", "#444");
  }
  Rect(left, top, right - left, bottom - top, "none", "#444");
  Text((left + right) / 2, bottom + 36, x_title, 12, "middle");
  Text(left - 46, (top + bottom) / 2, y_title, 12, "middle", "#222", false, -90);
}

void Svg::Heatmap(const HeatGrid& g, const std::vector<std::string>& cols,
                  const std::vector<std::string>& rows,
                  const std::function<void(size_t row, size_t col, double x, double y)>& cell) {
  for (size_t c = 0; c < cols.size(); ++c) {
    Text(g.left + g.cw * static_cast<double>(c) + g.cw / 2, g.top - g.col_gap, cols[c],
         g.label_size, g.col_anchor, g.label_fill, false, g.col_rotate);
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    const double y = g.top + g.ch * static_cast<double>(r);
    Text(g.left - 8, y + g.ch / 2 + 4, rows[r], g.label_size, "end", g.label_fill);
    for (size_t c = 0; c < cols.size(); ++c) {
      cell(r, c, g.left + g.cw * static_cast<double>(c), y);
    }
  }
}

std::string Svg::Finish() { return out_ + "</svg>\n"; }

}  // namespace sandwatch::harness::report
