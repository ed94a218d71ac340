#include "slimformer/report/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "slimformer/report/html_report.h"

namespace slimformer::report {

namespace {

constexpr const char* kFont = "font-family=\"sans-serif\"";
// Colour-blind-safe series colours (Okabe-Ito).
constexpr const char* kColours[] = {"#0072B2", "#D55E00", "#009E73",
                                    "#CC79A7", "#E69F00", "#56B4E9"};

// White to dark blue.
std::string shade(double v) {
  v = std::clamp(v, 0.0, 1.0);
  auto mix = [&](int from, int to) {
    return static_cast<int>(std::lround(from + (to - from) * v));
  };
  return fmt::format("#{:02x}{:02x}{:02x}", mix(247, 8), mix(251, 48), mix(255, 107));
}

std::string number_label(double v) {
  // Counts such as parameters read best with a suffix: 480k, 1.25M.
  if (std::abs(v) >= 1e6) return fmt::format("{:g}M", std::round(v / 1e4) / 100);
  if (std::abs(v) >= 1e4) return fmt::format("{:g}k", std::round(v / 1e2) / 10);
  if (v != 0 && std::abs(v) < 1e-2) return fmt::format("{:.2g}", v);
  return fmt::format("{:g}", std::round(v * 1000) / 1000);
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int count, double min_step) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / std::max(count, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  step = std::max(step, min_step);
  std::vector<double> ticks;
  for (double t = std::floor(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  if (ticks.empty() || ticks.front() > lo) ticks.insert(ticks.begin(), ticks.front() - step);
  if (ticks.back() < hi) ticks.push_back(ticks.back() + step);
  return ticks;
}

std::string heat_map_svg(const HeatMap& map) {
  const int cell_w = 64, cell_h = 34, left = 80, top = 44;
  const int width = left + cell_w * static_cast<int>(map.columns.size()) + 20;
  const int height = top + cell_h * static_cast<int>(map.rows.size()) + 16;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "{} font-size=\"12\">\n",
      width, height, width, height, kFont);
  svg += fmt::format("<text x=\"{}\" y=\"16\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
                     left, html_escape(map.title));
  for (size_t c = 0; c < map.columns.size(); ++c)
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                       left + cell_w * c + cell_w / 2, top - 8, html_escape(map.columns[c]));
  for (size_t r = 0; r < map.rows.size(); ++r) {
    const int y = top + cell_h * static_cast<int>(r);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", left - 8,
                       y + cell_h / 2 + 4, html_escape(map.rows[r]));
    for (size_t c = 0; c < map.columns.size(); ++c) {
      const int x = left + cell_w * static_cast<int>(c);
      const double v = r < map.values.size() && c < map.values[r].size() ? map.values[r][c] : NAN;
      if (std::isnan(v)) {
        svg += fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#e8e8e8\" "
            "stroke=\"#ffffff\"/>\n",
            x, y, cell_w, cell_h);
        continue;
      }
      svg += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#ffffff\">"
          "<title>{} {}: {:.3f}</title></rect>\n",
          x, y, cell_w, cell_h, shade(v), html_escape(map.rows[r]), html_escape(map.columns[c]), v);
      svg +=
          fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{:.2f}</text>\n",
                      x + cell_w / 2, y + cell_h / 2 + 4, v > 0.55 ? "#ffffff" : "#222222", v);
    }
  }
  return svg + "</svg>\n";
}

std::string line_chart_svg(const LineChart& chart) {
  // The legend column is as wide as its longest label (about 7 px per character at 12 px).
  size_t longest = chart.reference_label.size();
  for (const auto& s : chart.series) longest = std::max(longest, s.name.size());
  const double plot_w = 346, height = 340, left = 64, top = 36, bottom = 48;
  const double right = std::max(150.0, 46.0 + 7.0 * double(longest));
  const double width = left + plot_w + right, plot_h = height - top - bottom;
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const auto& s : chart.series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
    }
  if (!std::isnan(chart.reference))
    y_lo = std::min(y_lo, chart.reference), y_hi = std::max(y_hi, chart.reference);
  if (!std::isfinite(x_lo)) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  const auto x_ticks = nice_ticks(x_lo, x_hi, 6, chart.integer_x ? 1.0 : 0.0),
             y_ticks = nice_ticks(y_lo, y_hi, 5);
  x_lo = x_ticks.front(), x_hi = x_ticks.back(), y_lo = y_ticks.front(), y_hi = y_ticks.back();
  auto px = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * plot_w; };
  auto py = [&](double y) { return top + plot_h - (y - y_lo) / (y_hi - y_lo) * plot_h; };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" {2} font-size=\"12\">\n",
      width, height, kFont);
  svg += fmt::format("<text x=\"10\" y=\"18\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
                     html_escape(chart.title));
  for (double t : y_ticks)
    svg += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#e0e0e0\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        left, left + plot_w, py(t), left - 6, py(t) + 4, number_label(t));
  for (double t : x_ticks)
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(t),
                       top + plot_h + 16, number_label(t));
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888888\"/>\n",
      left, top, plot_w, plot_h);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     left + plot_w / 2, height - 10, html_escape(chart.x_label));
  svg += fmt::format(
      "<text x=\"14\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {0})\">{1}"
      "</text>\n",
      top + plot_h / 2, html_escape(chart.y_label));
  double legend_y = top + 8;
  if (!std::isnan(chart.reference)) {
    svg += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#444444\" "
        "stroke-dasharray=\"5 4\"/>\n",
        left, left + plot_w, py(chart.reference));
    svg += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#444444\" "
        "stroke-dasharray=\"5 4\"/><text x=\"{3}\" y=\"{4}\">{5}</text>\n",
        left + plot_w + 10, left + plot_w + 30, legend_y, left + plot_w + 36, legend_y + 4,
        html_escape(chart.reference_label));
    legend_y += 18;
  }
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const auto& s = chart.series[i];
    const char* colour = kColours[i % std::size(kColours)];
    std::string points;
    for (size_t j = 0; j < s.x.size() && j < s.y.size(); ++j)
      points += fmt::format("{:.1f},{:.1f} ", px(s.x[j]), py(s.y[j]));
    if (!s.points_only)
      svg += fmt::format(
          "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", points,
          colour);
    for (size_t j = 0; j < s.x.size() && j < s.y.size(); ++j)
      svg += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"><title>{}: {} = {}</title>"
          "</circle>\n",
          px(s.x[j]), py(s.y[j]), colour, html_escape(s.name), number_label(s.x[j]),
          number_label(s.y[j]));
    // Labels alternate above and below their point so that neighbours overlap less, and end at
    // their point in the right half so that they stay inside the plot.
    for (size_t j = 0; j < s.labels.size() && j < s.x.size() && j < s.y.size(); ++j) {
      const bool right_half = px(s.x[j]) > left + plot_w / 2;
      svg += fmt::format(
          "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\" font-size=\"10\" "
          "fill=\"#333333\">{}</text>\n",
          px(s.x[j]) + (right_half ? -5 : 5), py(s.y[j]) + (j % 2 ? 13 : -6),
          right_half ? "end" : "start", html_escape(s.labels[j]));
    }
    if (s.points_only)
      svg += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{}\"/>", left + plot_w + 20,
                         legend_y, colour);
    else
      svg += fmt::format(
          "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" "
          "stroke-width=\"2\"/>",
          left + plot_w + 10, left + plot_w + 30, legend_y, colour);
    svg += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", left + plot_w + 36, legend_y + 4,
                       html_escape(s.name));
    legend_y += 18;
  }
  return svg + "</svg>\n";
}

}  // namespace slimformer::report
