// Options and set-up of the command that trains translation models (train): the parallel
// corpus, the vocabulary and the model (new from the model.* options, or resumed), then the
// pipeline's training run.
#pragma once

#include "options.h"
#include "slimformer/pipeline/training.h"
#include "training_setup.h"

namespace slimformer::tools {

// Data and trainer options, and (with new_model) vocabulary and model.* options; fine-tuning
// commands start from a checkpoint and leave out the latter.
void add_translation_train_options(CommandOptions& options, bool new_model = true);

// The data.* options of translation training.
pipeline::TranslationData translation_data(const core::Settings& settings);

// Trains a new model per `settings` (or the run in --output with --resume); writes results.json.
train::TrainResult run_translation_training(const core::Settings& settings,
                                            const CommonOptions& common);

}  // namespace slimformer::tools
