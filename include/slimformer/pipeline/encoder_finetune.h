// Fine-tuning a pre-trained encoder on a task that needs a new head: a sentence or sentence-pair
// task (GLUE or a user's file; a classification or regression head) or SQuAD spans. The run's
// best checkpoint is then scored on the whole dev set (or the held-out articles), as tables
// report it.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "slimformer/pipeline/training.h"

namespace slimformer::pipeline {

struct EncoderFinetuneOutcome {
  train::TrainResult training;
  std::filesystem::path best;             // <output>/best
  std::string summary;                    // "SST-2 81.3", "EM 10.2  F1 13.7 (...)"
  std::map<std::string, double> metrics;  // of the best checkpoint on the dev set (text tasks)
};

// The model a fine-tuning run trains: its last checkpoint when resuming, otherwise the encoder
// body of `encoder_dir` with a fresh `head` ("classification" with `num_labels` outputs, "span"),
// or with `from_scratch` the same architecture re-initialized from its seed.
train::LoadedModel encoder_with_new_head(const std::filesystem::path& encoder_dir,
                                         const TrainingRun& run, const std::string& head,
                                         int64_t num_labels, bool from_scratch);

// Fine-tunes on data.custom (a user's task, with its train and dev files) or the GLUE task
// data.task into run.train.output_dir, a new directory unless resuming.
EncoderFinetuneOutcome finetune_text_task(const std::filesystem::path& encoder_dir, GlueData data,
                                          const TrainingRun& run, bool from_scratch = false);

// Fine-tunes on SQuAD's training articles of `data` into run.train.output_dir.
EncoderFinetuneOutcome finetune_squad_task(const std::filesystem::path& encoder_dir,
                                           const SquadRunOptions& data, const TrainingRun& run,
                                           bool from_scratch = false);

}  // namespace slimformer::pipeline
