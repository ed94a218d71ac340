#include "slimformer/report/importance_report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

#include "slimformer/core/files.h"
#include "slimformer/eval/correlation.h"

namespace slimformer::report {

namespace fs = std::filesystem;
using methods::ImportanceResult;

namespace {

const std::vector<std::string> kColumnOrder = {"E:SA", "E:FF", "D:SA", "D:EA", "D:FF"};

bool has_score(const ImportanceResult& result, const std::string& by) {
  return std::none_of(result.sublayers.begin(), result.sublayers.end(), [&](const auto& s) {
    return std::isnan(by == methods::kContribution ? s.contribution : s.criticality);
  });
}

std::vector<std::string> computed_scores(const ImportanceResult& result) {
  std::vector<std::string> out;
  for (const char* by : {methods::kContribution, methods::kCriticality})
    if (has_score(result, by)) out.push_back(by);
  return out;
}

std::string fixed(double v, int digits = 2) {
  return std::isnan(v) ? "-" : fmt::format("{:.{}f}", v, digits);
}

}  // namespace

HeatMap importance_heat_map(const ImportanceResult& result, const std::string& by) {
  const auto values = result.scores(by);
  HeatMap map;
  map.title = fmt::format("{} score ({})", by, result.metric);
  int64_t layers = 0;
  std::vector<bool> used(kColumnOrder.size(), false);
  for (const auto& s : result.sublayers) {
    layers = std::max(layers, s.place.layer + 1);
    auto it = std::find(kColumnOrder.begin(), kColumnOrder.end(), s.place.label);
    used[it - kColumnOrder.begin()] = true;
  }
  std::vector<int> column_of(kColumnOrder.size(), -1);
  for (size_t c = 0; c < kColumnOrder.size(); ++c)
    if (used[c]) column_of[c] = map.columns.size(), map.columns.push_back(kColumnOrder[c]);
  // Numbered from 0, as paths number them (encoder.layers.0.self_attn is row "layer 0").
  for (int64_t l = 0; l < layers; ++l) map.rows.push_back(fmt::format("layer {}", l));
  map.values.assign(layers, std::vector<double>(map.columns.size(), NAN));
  for (size_t i = 0; i < result.sublayers.size(); ++i) {
    const auto& place = result.sublayers[i].place;
    auto it = std::find(kColumnOrder.begin(), kColumnOrder.end(), place.label);
    map.values[place.layer][column_of[it - kColumnOrder.begin()]] = values[i];
  }
  return map;
}

std::vector<Agreement> importance_agreement(const ImportanceResult& result,
                                            const ImportanceResult* other,
                                            const std::string& other_label) {
  std::vector<Agreement> out;
  const auto scores = computed_scores(result);
  if (scores.size() == 2)
    out.push_back({"contribution vs criticality",
                   eval::spearman(result.scores(methods::kContribution),
                                  result.scores(methods::kCriticality)),
                   result.sublayers.size()});
  if (!other) return out;
  std::map<std::string, size_t> other_index;
  for (size_t i = 0; i < other->sublayers.size(); ++i) other_index[other->sublayers[i].path] = i;
  for (const auto& by : scores) {
    if (!has_score(*other, by)) continue;
    const auto mine = result.scores(by), theirs = other->scores(by);
    std::vector<double> x, y;
    for (size_t i = 0; i < result.sublayers.size(); ++i) {
      auto it = other_index.find(result.sublayers[i].path);
      if (it != other_index.end()) x.push_back(mine[i]), y.push_back(theirs[it->second]);
    }
    out.push_back(
        {fmt::format("{} vs {} of {}", by, by, other_label), eval::spearman(x, y), x.size()});
  }
  return out;
}

void add_importance_sections(HtmlReport& html, const ImportanceResult& result, const fs::path& dir,
                             const ImportanceResult* other, const std::string& other_label) {
  html.paragraph(fmt::format(
      "Metric {} on {} examples: full model {:.3f}. Contribution: the drop when a sublayer is "
      "switched off, clipped to [0, {:.3f}] and divided by the largest. Criticality: the smallest "
      "alpha (tolerance {:.3f}) for which theta = (1 - alpha) theta_init + alpha theta_final keeps "
      "the metric within {:.3f} of the full model. Darker is more important. {} evaluations, "
      "{:.0f} s.",
      result.metric, result.examples, result.baseline, result.clip, result.tolerance,
      result.threshold, result.evaluations.size(), result.seconds));
  for (const auto& by : computed_scores(result)) {
    const std::string svg = heat_map_svg(importance_heat_map(result, by));
    core::write_text_atomically(dir / fmt::format("heatmap_{}.svg", by), svg);
    html.raw(svg);
  }
  if (!result.removal_curves.empty()) {
    LineChart chart;
    chart.title = "Removal curves: the k least important sublayers switched off";
    chart.x_label = "k (sublayers removed)";
    chart.y_label = result.metric;
    chart.reference = result.baseline;
    chart.reference_label = "full model";
    chart.integer_x = true;
    for (const auto& [by, curve] : result.removal_curves) {
      LineSeries series{"by " + by, {}, {}};
      for (const auto& p : curve) series.x.push_back(p.k), series.y.push_back(p.value);
      chart.series.push_back(series);
    }
    const std::string svg = line_chart_svg(chart);
    core::write_text_atomically(dir / "removal_curves.svg", svg);
    html.heading("Removal curves");
    html.raw(svg);
    std::vector<std::vector<std::string>> rows;
    for (const auto& [by, curve] : result.removal_curves)
      for (const auto& p : curve)
        rows.push_back({by, std::to_string(p.k), fixed(p.value, 3),
                        p.removed.empty() ? "-" : p.removed.back()});
    html.table({"order", "k", result.metric, "sublayer added to the removed set"}, rows);
  }
  auto agreement = importance_agreement(result, other, other_label);
  if (!agreement.empty()) {
    html.heading("Agreement (Spearman rank correlation)");
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : agreement)
      rows.push_back({a.what, fixed(a.spearman, 3), std::to_string(a.sublayers)});
    html.table({"scores", "Spearman", "sublayers"}, rows);
  }
  html.heading("Scores");
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : result.sublayers)
    rows.push_back({s.path, s.place.label, std::to_string(s.parameters), fixed(s.metric_off, 3),
                    fixed(s.drop, 3), fixed(s.contribution), fixed(s.criticality, 3)});
  html.table({"sublayer", "kind", "parameters", result.metric + " when off", "drop", "contribution",
              "criticality"},
             rows);
}

void write_importance_report(const ImportanceResult& result, const fs::path& dir,
                             const ImportanceResult* other, const std::string& other_label) {
  HtmlReport html("slimformer importance");
  add_importance_sections(html, result, dir, other, other_label);
  html.save(dir / "report.html");
}

}  // namespace slimformer::report
