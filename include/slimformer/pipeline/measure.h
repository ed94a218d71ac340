// Several models measured side by side in one run, on the same data and settings: parameters,
// bytes on disk, the family's metric (with the others its evaluation computes) and the time one
// evaluation takes (decoding the test set, scoring the text, classifying the examples), timed in
// alternating rounds so that all models see the same machine conditions, each keeping its
// fastest round.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "slimformer/pipeline/evaluation.h"

namespace slimformer::pipeline {

struct MeasureOptions {
  EvaluationOptions evaluation;  // the test data and metric
  int64_t repeats = 2;           // timing rounds over all models
  // Also the latency at batch 1: the first N examples evaluated one at a time in the same
  // alternating rounds (0: not measured).
  int64_t latency_examples = 0;
  // After each timed evaluation: rounds done so far and in all, and the model's name.
  std::function<void(int64_t done, int64_t total, const std::string& name)> on_progress;
};

struct MeasuredModel {
  std::string name;
  std::filesystem::path dir;
  int64_t parameters = 0;
  std::vector<std::string> removed;  // sublayers removed from it
  double disk_mb = 0;
  std::string metric;                     // the chosen metric
  bool higher_is_better = true;           // of the chosen metric
  double value = 0;                       // its value
  std::map<std::string, double> metrics;  // everything the evaluation computed
  double seconds = 0;                     // the fastest evaluation
  size_t examples = 0;
  double latency_ms = 0;  // per example at batch 1, the fastest round (latency_examples > 0)
  std::vector<double> latency_rounds_ms;  // every round's, to show how much they move
  size_t latency_examples = 0;
};

using NamedModel = std::pair<std::string, std::filesystem::path>;

// Measures `models` (checkpoint directories of one family) side by side.
std::vector<MeasuredModel> measure_models(const std::vector<NamedModel>& models,
                                          const MeasureOptions& options);

// How a metric is labelled in tables and charts: "BLEU", "chrF2", "EM", "F1", "ppl", ...
std::string metric_label(const std::string& metric);

// JSON rows with the speed-up against the first model.
nlohmann::json measurements_json(const std::vector<MeasuredModel>& measured);
// The table: model, parameters, MB on disk, each metric, seconds, speed-up against the first.
std::vector<std::string> measurement_header(const std::vector<MeasuredModel>& measured);
std::vector<std::vector<std::string>> measurement_rows(const std::vector<MeasuredModel>& measured);

}  // namespace slimformer::pipeline
