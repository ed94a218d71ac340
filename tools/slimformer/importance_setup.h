// Options and the run shared by the commands that score sublayer importance (importance,
// quickstart): the evaluation subset, the scores, the removal curves, and the files they write.
#pragma once

#include <filesystem>

#include "options.h"
#include "slimformer/data/vocab.h"
#include "slimformer/methods/importance/importance.h"
#include "slimformer/models/seq2seq.h"

namespace slimformer::tools {

void add_importance_options(CommandOptions& options);

// Scores every sublayer of `model` per the importance.* and data.* settings, computes the
// removal curves, and writes results.json, scores.csv, evaluations.csv, the SVG figures and
// report.html into `out`. `record` is merged into results.json (command, model).
methods::ImportanceResult run_importance(models::Seq2SeqTransformerImpl& model,
                                         const data::Vocab& vocab, const core::TensorMap& init,
                                         const core::Settings& settings,
                                         const torch::Device& device,
                                         const std::filesystem::path& out,
                                         const nlohmann::json& record);

}  // namespace slimformer::tools
