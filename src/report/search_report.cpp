#include "slimformer/report/search_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "slimformer/core/error.h"
#include "slimformer/methods/search/search_log.h"
#include "slimformer/nn/ffn_expression.h"
#include "slimformer/report/html_report.h"
#include "slimformer/report/svg_chart.h"

namespace slimformer::report {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<SearchSummary> write_search_report(
    const std::vector<std::pair<std::string, fs::path>>& runs) {
  HtmlReport html("FFN search");
  LineChart scatter{"Candidates: score after the short distillation against FFN parameters",
                    "FFN parameters (all layers)", "held-out masked-token accuracy", {}};
  LineChart progress{"Best score so far against candidates evaluated", "candidates evaluated",
                     "best held-out masked-token accuracy", {}};
  progress.integer_x = true;
  std::vector<SearchSummary> summaries;
  json best_overall = nullptr;
  std::vector<std::vector<std::string>> top_rows;
  for (const auto& [label, dir] : runs) {
    const fs::path log_file = dir / "search_log.jsonl";
    if (!fs::exists(log_file))
      throw core::UserError(fmt::format("{}: no search_log.jsonl (not a search run)", dir.string()));
    std::map<int, std::vector<json>> by_stage;
    for (auto& r : methods::SearchLog(log_file).results()) by_stage[r["stage"].get<int>()].push_back(r);
    for (auto& [stage, results] : by_stage) {
      std::sort(results.begin(), results.end(),
                [](const json& a, const json& b) { return a["index"] < b["index"]; });
      SearchSummary s{label, stage, static_cast<int64_t>(results.size())};
      const std::string name = fmt::format("{} stage {}", label, stage);
      LineSeries points{name, {}, {}, true}, best{name, {}, {}};
      std::vector<double> scores;
      double running = -1;
      for (const auto& r : results) {
        const double score = r.value("score", 0.0);
        scores.push_back(score);
        s.seconds += r.value("seconds", 0.0);
        points.x.push_back(r.value("ffn_parameters", 0.0));
        points.y.push_back(score);
        if (score > running) {
          running = score;
          s.best_architecture = r["architecture"];
          if (best_overall.is_null() || score > best_overall.value("score", 0.0)) best_overall = r;
        }
        best.x.push_back(double(best.x.size() + 1));
        best.y.push_back(running);
      }
      s.best_score = running;
      std::vector<double> sorted = scores;
      std::sort(sorted.begin(), sorted.end());
      s.median_score = sorted.empty() ? 0 : sorted[sorted.size() / 2];
      scatter.series.push_back(points);
      progress.series.push_back(best);
      summaries.push_back(s);
      std::vector<json> top = results;
      std::sort(top.begin(), top.end(), [](const json& a, const json& b) {
        return a.value("score", 0.0) > b.value("score", 0.0);
      });
      for (size_t i = 0; i < top.size() && i < 3; ++i)
        top_rows.push_back({name, std::to_string(top[i]["index"].get<int64_t>()),
                            fmt::format("{:.4f}", top[i].value("score", 0.0)),
                            std::to_string(top[i].value("ffn_parameters", 0)),
                            fmt::format("{:.2f}", top[i].value("latency_ms", 0.0)),
                            top[i]["architecture"].get<std::string>()});
    }
  }
  html.paragraph(
      "Each candidate inherits the warm-up distilled super-network's weights and is scored by its "
      "held-out masked-token accuracy after a short distillation from the teacher (stages 1, 2), "
      "or with the weight-sharing super-network's weights alone (stage 3).");
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : summaries)
    rows.push_back({s.label, std::to_string(s.stage), std::to_string(s.candidates),
                    fmt::format("{:.4f}", s.best_score), fmt::format("{:.4f}", s.median_score),
                    fmt::format("{:.1f}", s.seconds / 60.0), s.best_architecture});
  html.table({"run", "stage", "candidates", "best score", "median score", "minutes",
              "best architecture (layer 0; layer 1; ...)"},
             rows);
  html.raw(line_chart_svg(scatter));
  html.raw(line_chart_svg(progress));
  if (!best_overall.is_null()) {
    html.heading("The best architecture, per layer");
    const auto a = methods::Architecture::parse(best_overall["architecture"].get<std::string>());
    std::vector<std::vector<std::string>> layers;
    for (size_t i = 0; i < a.layers.size(); ++i)
      layers.push_back({std::to_string(i), a.layers[i].to_string(),
                        std::to_string(a.layers[i].depth()),
                        fmt::format("1/{}", a.layers[i].ratio())});
    html.paragraph(fmt::format("Score {:.4f} (stage {}, candidate {}).",
                               best_overall.value("score", 0.0), best_overall["stage"].get<int>(),
                               best_overall["index"].get<int64_t>()));
    html.table({"layer", "expression", "stacked sub-networks", "inner width (of H)"}, layers);
  }
  html.heading("The three best candidates of each stage");
  html.table({"run", "candidate", "score", "FFN parameters", "latency (ms, 1 x 128 tokens)",
              "architecture"},
             top_rows);
  html.save(runs.front().second / "report.html");
  return summaries;
}

}  // namespace slimformer::report
