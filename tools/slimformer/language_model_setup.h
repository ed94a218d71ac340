// Training a causal language model on running text (slimformer train --task lm): the text
// options, the tokenizer (trained, or loaded from a sentencepiece .model or llama2.c .bin), the
// model from the model.* options, and the pipeline's training run.
#pragma once

#include "options.h"
#include "slimformer/pipeline/training.h"
#include "training_setup.h"

namespace slimformer::tools {

// data.train_text, data.valid_text and data.context.
void add_language_model_data_options(CommandOptions& options);

// The data.* options of language-model training.
pipeline::LanguageModelData language_model_data(const core::Settings& settings);

// Trains per `settings` (a new model, or the run in --output with --resume); writes results.json
// and returns the trainer's result.
train::TrainResult run_language_model_training(const core::Settings& settings,
                                               const CommonOptions& common);

}  // namespace slimformer::tools
