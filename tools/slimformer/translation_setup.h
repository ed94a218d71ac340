// Options and set-up shared by the commands that train translation models (train, quickstart):
// reading the parallel corpus, building or loading the vocabulary and the model, and running the
// trainer with a progress bar.
#pragma once

#include "options.h"
#include "slimformer/eval/translation_task.h"
#include "slimformer/train/trainer.h"
#include "training_setup.h"

namespace slimformer::tools {

// Data, trainer and (with new_model) vocabulary and model.* options; fine-tuning commands start
// from a checkpoint and leave out the latter.
void add_translation_train_options(CommandOptions& options, bool new_model = true);

struct TranslationRunResult {
  train::TrainResult train;
  std::filesystem::path output_dir;
};

// Trains per `settings`; starts from the checkpoint `start_from` when given (fine-tuning),
// otherwise from a fresh model built from the model.* options. Writes results.json.
TranslationRunResult run_translation_training(const core::Settings& settings,
                                              const CommonOptions& common,
                                              const std::string& command_line,
                                              const std::filesystem::path& start_from = {});

}  // namespace slimformer::tools
