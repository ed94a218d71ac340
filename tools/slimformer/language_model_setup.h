// Training a causal language model on running text (slimformer train --task lm): the text
// options, the tokenizer (trained, or loaded from a sentencepiece .model or llama2.c .bin), the
// model from the model.* options, and the run.
#pragma once

#include "options.h"
#include "training_setup.h"

namespace slimformer::tools {

// data.train_text, data.valid_text and data.context.
void add_language_model_data_options(CommandOptions& options);

// Trains per `settings` (a new model, or the run in --output with --resume); writes results.json
// and returns the trainer's result.
train::TrainResult run_language_model_training(const core::Settings& settings,
                                               const CommonOptions& common,
                                               const std::string& command_line);

}  // namespace slimformer::tools
