// Every given variant of a model measured side by side in one run on the same data and settings:
// the family's metric, parameters, bytes on disk, latency at batch 1, throughput at the
// evaluation's batch (alternating rounds, the fastest kept) and, through a probe run in a process
// of its own, peak memory; the accuracy-against-latency and accuracy-against-size frontiers with
// their Pareto-optimal variants, as JSON and as an HTML report.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slimformer/pipeline/measure.h"
#include "slimformer/report/frontier.h"

namespace slimformer::pipeline {

struct CompareOptions {
  MeasureOptions measure;  // data, metric, rounds and latency_examples (> 0)
  // Peak resident memory in MB of a process that loads `model` and evaluates it (the caller runs
  // probe_memory in a fresh process); unset: not measured.
  std::function<double(const std::filesystem::path& model)> peak_memory_mb;
  std::string title = "slimformer compare";
};

report::Comparison compare_models(const std::vector<NamedModel>& models,
                                  const CompareOptions& options);

// What one variant's JSON row holds: every field of ComparedVariant.
nlohmann::json comparison_json(const report::Comparison& comparison);

// Writes <out>/results.json and <out>/report.html, each atomically.
void write_comparison(const report::Comparison& comparison, const std::filesystem::path& out,
                      const nlohmann::json& extra);

struct MemoryProbe {
  double baseline_mb = 0;  // resident memory of the process before the model was loaded
  double peak_mb = 0;      // the process's peak resident memory after evaluating
};

// Loads `model` in this process and evaluates it at batch 1 (the first `latency_examples`) and
// at the options' batch, then reads the process's peak resident memory. Meaningful only as the
// first work of a fresh process.
MemoryProbe probe_memory(const std::filesystem::path& model, const EvaluationOptions& options,
                         int64_t latency_examples);

}  // namespace slimformer::pipeline
