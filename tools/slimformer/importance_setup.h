// Options of the commands that score sublayer importance (importance, quickstart) and their
// conversion to the pipeline's structs: the evaluation data of each family, the scores and the
// removal curves, with progress bars.
#pragma once

#include <filesystem>

#include "options.h"
#include "slimformer/pipeline/evaluation.h"
#include "slimformer/pipeline/importance_run.h"

namespace slimformer::tools {

void add_importance_options(CommandOptions& options);

// The evaluation the data.* and importance.* options describe for a model of `config`'s family
// (translation: Multi30k validation unless --src/--ref name other text).
pipeline::EvaluationOptions importance_evaluation(const core::Settings& settings,
                                                  const models::TransformerConfig& config,
                                                  const torch::Device& device);

// The scoring options, with progress bars for each phase.
pipeline::ImportanceRunOptions importance_run_options(const core::Settings& settings);

}  // namespace slimformer::tools
