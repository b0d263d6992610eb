// The SVG writer every report chart is drawn with: axes with log or linear scales,
// lines, polylines, rectangles, markers and text. Every string is escaped.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sandwatch::harness::report {

// Maps a data range onto a pixel range, linearly or in log10.
struct Scale {
  double d0 = 0, d1 = 1;  // data domain
  double p0 = 0, p1 = 1;  // pixels
  bool log = false;
  double operator()(double v) const;
};

// Ticks for an axis: 1-2-5 per decade on a log scale, 5 steps on a linear one.
std::vector<double> Ticks(const Scale& s);

// "#rrggbb" for i-th series.
std::string SeriesColor(size_t i);
// Red (0) -> yellow (0.5) -> green (1).
std::string RateColor(double rate);

// A heatmap's grid: origin, cell size, cell inset and how the row and column labels look.
struct HeatGrid {
  double left = 0, top = 0, cw = 0, ch = 0;
  int label_size = 12;
  std::string label_fill = "#222";
  double col_gap = 8;  // column labels sit this far above the grid
  std::string col_anchor = "middle";
  double col_rotate = 0;
};

class Svg {
 public:
  Svg(int width, int height, std::string_view title);
  void Line(double x1, double y1, double x2, double y2, std::string_view stroke, double width = 1,
            std::string_view dash = "");
  void Polyline(const std::vector<std::pair<double, double>>& pts, std::string_view stroke,
                double width, std::string_view dash = "");
  void Circle(double x, double y, double r, std::string_view fill,
              std::string_view stroke = "none");
  void Rect(double x, double y, double w, double h, std::string_view fill,
            std::string_view stroke = "none", double stroke_width = 1);
  // anchor: start | middle | end
  void Text(double x, double y, std::string_view text, int size = 12,
            std::string_view anchor = "start", std::string_view fill = "#222", bool bold = false,
            double rotate = 0);
  // A chart's bold title line.
  void Heading(double x, double y, std::string_view text, int size) {
    Text(x, y, text, size, "start", "#222", true);
  }
  // A legend entry: a 25 px line sample at (x, y) and its label after it.
  void LegendLine(double x, double y, std::string_view label, int size, std::string_view stroke,
                  double width, std::string_view dash = "") {
    Line(x, y, x + 25, y, stroke, width, dash);
    Text(x + 31, y + 4, label, size);
  }
  // Frame, ticks, tick labels and axis titles for an x/y scale pair.
  void Axes(const Scale& x, const Scale& y, std::string_view x_title, std::string_view y_title,
            std::string (*fmt_x)(double), std::string (*fmt_y)(double));
  // A grid: column labels on top, row labels on the left; cell(row, col, x, y) draws the
  // cell whose top-left corner is (x, y).
  void Heatmap(const HeatGrid& g, const std::vector<std::string>& cols,
               const std::vector<std::string>& rows,
               const std::function<void(size_t row, size_t col, double x, double y)>& cell);
  std::string Finish();

 private:
  std::string out_;
};

}  // namespace sandwatch::harness::report
