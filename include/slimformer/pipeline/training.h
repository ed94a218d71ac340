// Training runs of every family as library calls: a model (loaded, or fresh with its initial
// parameters recorded) trained on its family's task per plain option structs, with the trainer's
// callbacks for progress; and the fine-tuning of any checkpoint on its family's task, which
// module pruning, rewinding and every method that changes a model end with.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "slimformer/data/text_task.h"
#include "slimformer/data/vocab.h"
#include "slimformer/pipeline/squad_split.h"
#include "slimformer/train/checkpoint.h"
#include "slimformer/train/distillation.h"
#include "slimformer/train/trainer.h"

namespace slimformer::tasks {
class MaskedLMTask;  // tasks/masked_lm_task.h, which callers of masked_lm_task include
struct TaskPart;     // tasks/multi_task_glue_task.h, likewise for read_glue_parts
using TaskParts = std::shared_ptr<const std::vector<TaskPart>>;
}

namespace slimformer::pipeline {

// What every training run shares.
struct TrainingRun {
  train::TrainOptions train;  // optimizer, schedule, budget, output directory, resume
  torch::Device device = torch::kCPU;
  int64_t max_tokens = 4096;                         // per batch, padding included
  double label_smoothing = 0.0;                      // translation and language models
  nlohmann::json record = nlohmann::json::object();  // slimformer.json: command, options
  train::TrainCallbacks callbacks;
  // Distil from this model (encoder tasks: GLUE, SQuAD, masked LM) when set.
  std::shared_ptr<train::Teacher> teacher;
};

// Parallel text: training pairs longer than max_length tokens are dropped; validation by loss
// and by BLEU of the first bleu_samples sentences (0: loss only).
struct TranslationData {
  std::string train_src = "data/multi30k/train.en.gz", train_tgt = "data/multi30k/train.de.gz";
  std::string valid_src = "data/multi30k/val.en.gz", valid_tgt = "data/multi30k/val.de.gz";
  int64_t max_length = 128;
  int64_t bleu_samples = 500;
};

// Running text cut into windows of `context` tokens.
struct LanguageModelData {
  std::string train_text, valid_text;
  int64_t context = 128;
};

// A sentence or sentence-pair task and its train and dev files: a GLUE task
// (<glue_dir>/<task>/{train,dev}.tsv[.gz]) or a user's own (its columns in `custom`).
struct GlueData {
  std::string task;                      // a GLUE task; empty: `custom`, or the model's record's
  std::optional<data::TextTask> custom;  // a user's task
  std::string glue_dir = "data/glue";
  std::string train_file, dev_file;  // instead of the GLUE task's; a user's task needs both
  bool skip_malformed = false;       // leave out and count malformed rows instead of stopping
  int64_t max_length = 128;          // tokens per example, [CLS] and [SEP]s included
};

// Masked-LM pre-training text: consecutive lines become sentence pairs of at most max_length
// tokens; the last valid_pairs pairs are held out for validation.
struct MaskedLMData {
  int64_t max_length = 128;
  int64_t valid_pairs = 500;
  double mask_probability = 0.15;
};

// What a fine-tuning run of each family trains on.
struct FinetuneData {
  TranslationData translation;
  LanguageModelData language_model;
  GlueData glue;
  SquadRunOptions squad;
};

// The tokenizer of a new model: the file `given` (a sentencepiece .model or llama2.c .bin)
// when named, otherwise a sentencepiece vocabulary trained on `lines` per `options` and written
// to <output>/vocab/tokenizer.model.
std::shared_ptr<data::Tokenizer> tokenizer_for_new_model(const std::string& given,
                                                         const data::VocabTrainOptions& options,
                                                         const std::vector<std::string>& lines,
                                                         const std::filesystem::path& output);

// The model a run trains: the run's last checkpoint with options.resume, otherwise `fresh()`
// with its current parameters recorded as the run's initial state.
template <typename Fresh>
train::LoadedModel resume_or_start(const train::TrainOptions& options, const torch::Device& device,
                                   Fresh fresh) {
  if (options.resume) return train::load_model(options.output_dir / "last", device);
  train::LoadedModel model = fresh();
  model.init = model.model->copy_state();
  return model;
}

// Trains `model` on its family's task and writes <output>/best, <output>/last, the log and
// results.json. The model must be of the function's family.
train::TrainResult train_translation(train::LoadedModel& model, const TranslationData& data,
                                     const TrainingRun& run);
train::TrainResult train_language_model(train::LoadedModel& model, const LanguageModelData& data,
                                        const TrainingRun& run);
train::TrainResult train_glue(train::LoadedModel& model, const GlueData& data,
                              const TrainingRun& run);
train::TrainResult train_squad(train::LoadedModel& model, const SquadRunOptions& data,
                               const TrainingRun& run);
// GLUE tasks for fine-tuning on several at once (tasks/multi_task_glue_task.h): each task's
// training file under data.glue_dir, encoded to data.max_length, every `held_out_every`-th example
// held out as the part's scoring set (the dev files stay untouched for final tables).
tasks::TaskParts read_glue_parts(const std::vector<std::string>& names, const GlueData& data,
                                 const data::Tokenizer& tokenizer, int64_t held_out_every);
// Fine-tunes an encoder whose classification head has total_labels(tasks) outputs on all `parts`
// at once. The checkpoints record each task's slice of the head.
train::TrainResult train_multi_task_glue(train::LoadedModel& model, tasks::TaskParts parts,
                                         const TrainingRun& run);
// The masked-LM task of an encoder with an mlm head over the lines of `corpus` (sentence pairs
// from run.train.seed, the last data.valid_pairs held out), distilling from run.teacher if set.
std::unique_ptr<tasks::MaskedLMTask> masked_lm_task(train::LoadedModel& model,
                                                    const std::vector<std::string>& corpus,
                                                    const MaskedLMData& data,
                                                    const TrainingRun& run);
// Masked-LM pre-training of an encoder with an mlm head on the lines of `corpus`.
train::TrainResult train_masked_lm(train::LoadedModel& model,
                                   const std::vector<std::string>& corpus, const MaskedLMData& data,
                                   const TrainingRun& run);

// Fine-tunes the checkpoint `start_from` (any family; a classification encoder on the GLUE task
// it records unless data.glue.task names one) into run.train.output_dir, continuing the run there
// when run.train.resume is set and it has a last checkpoint. Returns the trainer's result.
train::TrainResult finetune_checkpoint(const std::filesystem::path& start_from,
                                       const FinetuneData& data, TrainingRun run);

// A new run never writes over an earlier one: a UserError when `dir` holds a run and resume is
// not set; creates the directory.
void prepare_output_dir(const train::TrainOptions& options);

// <output>/results.json of a finished run.
void write_run_results(const train::TrainOptions& options, const train::TrainResult& result,
                       models::ModelTree& model);

}  // namespace slimformer::pipeline
