// Options shared by every command that trains a model (train for each task, pretrain, finetune,
// the surgery commands' fine-tuning): model.* options from TransformerConfig's fields, trainer
// options, the vocabulary, and the pipeline's training run with a progress bar.
#pragma once

#include <spdlog/spdlog.h>

#include "options.h"
#include "parallel_setup.h"
#include "slimformer/data/vocab.h"
#include "slimformer/models/model_tree.h"
#include "slimformer/models/transformer_config.h"
#include "slimformer/pipeline/training.h"
#include "slimformer/train/trainer.h"

namespace slimformer::tools {

// vocab.* and model.* options for a model built from scratch.
void add_new_model_options(CommandOptions& options);
// train.*, output and resume.
void add_trainer_options(CommandOptions& options);
// distill.*: a teacher checkpoint and the weights of the distillation loss.
void add_distillation_options(CommandOptions& options);

models::TransformerConfig config_from_settings(const core::Settings& settings, int64_t vocab_size,
                                               const std::string& model_type);
train::TrainOptions train_options_from_settings(const core::Settings& settings);

// The tokenizer the vocab.* options name, or one trained on `lines` per them
// (pipeline::tokenizer_for_new_model); `with_mask` adds the masked-LM mask piece.
std::shared_ptr<data::Tokenizer> tokenizer_from_settings(const core::Settings& settings,
                                                         const std::vector<std::string>& lines,
                                                         const std::filesystem::path& output,
                                                         bool with_mask = false);

// The pipeline's training run per the train.* options: trainer options (stopped by Ctrl-C), the
// device, batch budget and label smoothing, the run's record (command and options) and a progress
// bar labelled `label` with validation lines.
// The masked-LM text files of data.train_text (at least one) and the data.max_length,
// data.valid_pairs and data.mask_probability settings (pretrain and search).
std::vector<std::string> masked_lm_texts(const core::Settings& settings);
pipeline::MaskedLMData masked_lm_data(const core::Settings& settings);

pipeline::TrainingRun training_run(const core::Settings& settings, const CommonOptions& common,
                                   const std::string& label);

}  // namespace slimformer::tools
