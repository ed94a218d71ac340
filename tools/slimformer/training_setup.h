// Options and steps shared by every command that trains a model (train for each task,
// quickstart, fine-tuning): model.* options from TransformerConfig's fields, trainer options,
// the output-directory guard, and a training run with a progress bar and results.json.
#pragma once

#include "options.h"
#include "slimformer/models/transformer_config.h"
#include "slimformer/train/trainer.h"

namespace slimformer::tools {

// vocab.* and model.* options for a model built from scratch.
void add_new_model_options(CommandOptions& options);
// train.*, output and resume.
void add_trainer_options(CommandOptions& options);

models::TransformerConfig config_from_settings(const core::Settings& settings, int64_t vocab_size,
                                               const std::string& model_type);
train::TrainOptions train_options_from_settings(const core::Settings& settings);

// Refuses to start a new run over an earlier one; creates the directory.
void prepare_output_dir(const train::TrainOptions& options);

// Runs the trainer with a progress bar and validation lines; writes results.json.
train::TrainResult run_with_progress(train::TrainingTask& task, const train::TrainOptions& options,
                                     const nlohmann::json& record);

}  // namespace slimformer::tools
