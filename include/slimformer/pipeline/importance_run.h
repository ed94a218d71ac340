// An importance analysis as a library call: every sublayer's contribution and criticality
// (methods/importance) on an evaluator of any family, the removal curves, and the files a run
// writes (results.json, scores.csv, evaluations.csv and .jsonl, SVG heat maps and curves,
// report.html).
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "slimformer/methods/importance/importance.h"

namespace slimformer::pipeline {

struct ImportanceRunOptions {
  methods::ImportanceOptions scoring;
  int64_t curve_max_k = 8;  // removal curves switch off up to this many sublayers (0: none)
  // Progress of each phase ("scores", "curve contribution", "curve criticality").
  std::function<void(const std::string& phase, const methods::ImportanceProgress&)> on_progress;
};

// Scores `model`'s sublayers with `evaluator` (which scores that model), computes the removal
// curves and writes the run's files into `out`; `record` (model, command, options) is merged into
// results.json. Leaves the model as it found it.
methods::ImportanceResult run_importance(models::ModelTree& model, const core::TensorMap& init,
                                         eval::ModelEvaluator& evaluator,
                                         const ImportanceRunOptions& options,
                                         const std::filesystem::path& out,
                                         const nlohmann::json& record);

}  // namespace slimformer::pipeline
