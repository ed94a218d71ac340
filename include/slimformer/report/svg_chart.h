// Self-contained SVG figures for reports: a heat map (the paper's importance maps) and a line
// chart (removal curves). Pure functions from data to markup.
#pragma once

#include <cmath>
#include <string>
#include <vector>

namespace slimformer::report {

struct HeatMap {
  std::string title;
  std::vector<std::string> rows, columns;
  std::vector<std::vector<double>> values;  // [row][column] in [0, 1]; NaN: no such cell
};

// Darker is larger; every cell shows its value; NaN cells are drawn empty and grey.
std::string heat_map_svg(const HeatMap& map);

struct LineSeries {
  std::string name;
  std::vector<double> x, y;
  bool points_only = false;  // a scatter: markers without the connecting line
  std::vector<std::string> labels;  // if given, a name written beside each point
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<LineSeries> series;
  double reference = NAN;  // a dashed horizontal line (e.g. the full model), if set
  std::string reference_label;
  bool integer_x = false;  // x ticks at whole numbers only (counts such as k)
};

std::string line_chart_svg(const LineChart& chart);

// Round tick positions covering [lo, hi] (about `count` of them), at least `min_step` apart.
std::vector<double> nice_ticks(double lo, double hi, int count = 5, double min_step = 0);

}  // namespace slimformer::report
