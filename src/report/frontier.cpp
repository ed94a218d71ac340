#include "slimformer/report/frontier.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "slimformer/report/html_report.h"
#include "slimformer/report/svg_chart.h"

namespace slimformer::report {

std::vector<bool> pareto_optimal(const std::vector<double>& cost, const std::vector<double>& value,
                                 bool higher_is_better) {
  const size_t n = std::min(cost.size(), value.size());
  auto better_value = [&](double a, double b) { return higher_is_better ? a > b : a < b; };
  std::vector<bool> optimal(n, true);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n && optimal[i]; ++j) {
      const bool at_least_as_good = cost[j] <= cost[i] && !better_value(value[i], value[j]);
      const bool strictly_better = cost[j] < cost[i] || better_value(value[j], value[i]);
      if (j != i && at_least_as_good && strictly_better) optimal[i] = false;
    }
  return optimal;
}

double latency_spread(const ComparedVariant& v) {
  if (v.latency_rounds_ms.size() < 2) return 1.0;
  const auto [low, high] = std::minmax_element(v.latency_rounds_ms.begin(), v.latency_rounds_ms.end());
  return *low > 0 ? *high / *low : 1.0;
}

void mark_frontiers(Comparison& c) {
  std::vector<double> latency, size, value;
  for (const auto& v : c.variants)
    latency.push_back(v.latency_ms), size.push_back(v.disk_mb), value.push_back(v.value);
  const auto fastest = pareto_optimal(latency, value, c.higher_is_better);
  const auto smallest = pareto_optimal(size, value, c.higher_is_better);
  for (size_t i = 0; i < c.variants.size(); ++i) {
    c.variants[i].optimal_for_latency = fastest[i];
    c.variants[i].optimal_for_size = smallest[i];
  }
}

namespace {

// Two series: the Pareto-optimal variants joined in order of cost, and the dominated ones.
LineChart frontier_chart(const Comparison& c, const std::string& title, const std::string& x_label,
                         double ComparedVariant::*cost, bool ComparedVariant::*optimal) {
  LineChart chart;
  chart.title = title;
  chart.x_label = x_label;
  chart.y_label = c.metric_label + (c.higher_is_better ? " (higher is better)" : " (lower is better)");
  std::vector<const ComparedVariant*> order;
  for (const auto& v : c.variants) order.push_back(&v);
  std::stable_sort(order.begin(), order.end(),
                   [&](auto* a, auto* b) { return a->*cost < b->*cost; });
  LineSeries front, rest;
  front.name = "Pareto-optimal";
  rest.name = "dominated";
  rest.points_only = true;
  for (const auto* v : order) {
    auto& series = v->*optimal ? front : rest;
    series.x.push_back(v->*cost);
    series.y.push_back(v->value);
    series.labels.push_back(v->name);
  }
  chart.series.push_back(std::move(front));
  if (!rest.x.empty()) chart.series.push_back(std::move(rest));
  return chart;
}

std::string mark(bool optimal) { return optimal ? "yes" : ""; }

}  // namespace

std::string comparison_html(const Comparison& c) {
  HtmlReport html(c.title);
  html.paragraph(c.description);
  const bool memory = std::any_of(c.variants.begin(), c.variants.end(),
                                  [](const auto& v) { return v.peak_mb > 0; });
  html.raw(line_chart_svg(frontier_chart(c, c.metric_label + " against latency",
                                         "latency at batch 1 (ms per example)",
                                         &ComparedVariant::latency_ms,
                                         &ComparedVariant::optimal_for_latency)));
  html.raw(line_chart_svg(frontier_chart(c, c.metric_label + " against size",
                                         "size on disk (MB)", &ComparedVariant::disk_mb,
                                         &ComparedVariant::optimal_for_size)));
  std::vector<std::string> header = {"variant", c.metric_label, "parameters", "MB on disk",
                                     "ms per example (batch 1)", "slowest / fastest round",
                                     "examples/s (batched)"};
  if (memory) header.push_back("peak MB");
  header.insert(header.end(), {"optimal: latency", "optimal: size"});
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : c.variants) {
    std::vector<std::string> row = {v.name, fmt::format("{:.2f}", v.value),
                                    fmt::format("{}", v.parameters),
                                    fmt::format("{:.1f}", v.disk_mb),
                                    fmt::format("{:.2f}", v.latency_ms),
                                    fmt::format("{:.2f}x", latency_spread(v)),
                                    fmt::format("{:.1f}", v.examples_per_second)};
    if (memory) row.push_back(v.peak_mb > 0 ? fmt::format("{:.0f}", v.peak_mb) : "-");
    row.insert(row.end(), {mark(v.optimal_for_latency), mark(v.optimal_for_size)});
    rows.push_back(std::move(row));
  }
  double spread = 1.0;
  for (const auto& v : c.variants) spread = std::max(spread, latency_spread(v));
  html.heading("Variants");
  if (spread > 1.0)
    html.paragraph(fmt::format(
        "Latency is each variant's fastest round; its rounds differ by up to {:.2f}x. Latency "
        "differences smaller than that are within this machine's noise.",
        spread));
  html.table(header, rows);
  html.heading("How each variant was produced");
  std::vector<std::vector<std::string>> chains;
  for (const auto& v : c.variants)
    chains.push_back({v.name, v.dir,
                      v.chain.empty() ? std::string("(no compression steps recorded)")
                                      : fmt::format("{}", fmt::join(v.chain, " → "))});
  html.table({"variant", "directory", "steps"}, chains);
  return html.render();
}

}  // namespace slimformer::report
