// The importance report: one heat map per score (rows are layers, columns sublayer kinds, as in
// Wang & Tu's figures), the removal curves, the agreement between the scores (and with another
// run, e.g. a second training seed), and the tables behind them.
#pragma once

#include <filesystem>
#include <string>

#include "slimformer/methods/importance/importance.h"
#include "slimformer/report/html_report.h"
#include "slimformer/report/svg_chart.h"

namespace slimformer::report {

HeatMap importance_heat_map(const methods::ImportanceResult& result, const std::string& by);

struct Agreement {
  std::string what;
  double spearman = NAN;
  size_t sublayers = 0;
};
// Contribution against criticality, and each score against the same score of `other` (matched by
// path) when given.
std::vector<Agreement> importance_agreement(const methods::ImportanceResult& result,
                                            const methods::ImportanceResult* other = nullptr,
                                            const std::string& other_label = "");

// Writes heatmap_<score>.svg and removal_curves.svg into `dir` and adds the figures and tables
// to `html`.
void add_importance_sections(HtmlReport& html, const methods::ImportanceResult& result,
                             const std::filesystem::path& dir,
                             const methods::ImportanceResult* other = nullptr,
                             const std::string& other_label = "");

// The whole report: the sections above in `dir`/report.html.
void write_importance_report(const methods::ImportanceResult& result,
                             const std::filesystem::path& dir,
                             const methods::ImportanceResult* other = nullptr,
                             const std::string& other_label = "");

}  // namespace slimformer::report
