// Accuracy against cost: which variants of a model are Pareto-optimal (no other variant is at least
// as good on both axes and better on one), and the comparison report that draws them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace slimformer::report {

// For each point, whether it is Pareto-optimal for a `cost` that is better lower and a `value`
// that is better higher (or lower, with higher_is_better false). Equal points are all optimal.
std::vector<bool> pareto_optimal(const std::vector<double>& cost, const std::vector<double>& value,
                                 bool higher_is_better);

struct ComparedVariant {
  std::string name, dir;
  int64_t parameters = 0;
  double disk_mb = 0;
  double value = 0;                       // the chosen metric
  std::map<std::string, double> metrics;  // all the evaluation computed
  double latency_ms = 0;                  // per example at batch 1, the fastest round
  std::vector<double> latency_rounds_ms;  // each round's
  double examples_per_second = 0;         // at the evaluation's batch
  double peak_mb = 0;                     // peak resident memory of a process running it (0: not measured)
  std::vector<std::string> chain;         // the compression steps that produced it, in order
  bool optimal_for_latency = false, optimal_for_size = false;
};

struct Comparison {
  std::string title, description;
  std::string metric, metric_label;  // "bleu", "BLEU"
  bool higher_is_better = true;
  std::vector<ComparedVariant> variants;
};

// The slowest round's latency over the fastest's (1: steady, or a single round).
double latency_spread(const ComparedVariant& variant);

// Sets each variant's optimal_for_latency and optimal_for_size.
void mark_frontiers(Comparison& comparison);

// The report: the accuracy-against-latency and accuracy-against-size frontiers (SVG, every point
// named, Pareto-optimal points joined), the table, and how each variant was produced.
std::string comparison_html(const Comparison& comparison);

}  // namespace slimformer::report
