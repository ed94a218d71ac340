#include "slimformer/pipeline/encoder_finetune.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "slimformer/core/error.h"
#include "slimformer/data/glue.h"
#include "slimformer/models/encoder.h"
#include "slimformer/pipeline/evaluation.h"

namespace slimformer::pipeline {

namespace fs = std::filesystem;

train::LoadedModel encoder_with_new_head(const fs::path& encoder_dir, const TrainingRun& run,
                                         const std::string& head, int64_t num_labels,
                                         bool from_scratch) {
  return resume_or_start(run.train, run.device, [&] {
    auto ckpt = train::load_encoder(encoder_dir, run.device, head, num_labels);
    if (from_scratch) {
      ckpt.model->initialize();
      spdlog::info("training from random initialization (init_seed {})",
                   ckpt.model->config().init_seed);
    }
    return train::LoadedModel{ckpt.model.ptr(), ckpt.tokenizer, {}, false, ckpt.record};
  });
}

EncoderFinetuneOutcome finetune_text_task(const fs::path& encoder_dir, GlueData data,
                                          const TrainingRun& run, bool from_scratch) {
  if (!data.custom && data.task.empty())
    throw core::UserError("fine-tuning needs a GLUE task or a task of your own (its columns)");
  if (data.custom && (data.train_file.empty() || data.dev_file.empty()))
    throw core::UserError("a task of your own needs its train and dev files");
  const auto task = data.custom ? *data.custom : data::glue_task(data.task);
  if (!data.custom) data.task = task.name;
  // Every file found before anything is written.
  for (const auto* file : {&data.train_file, &data.dev_file})
    if (!file->empty() && !fs::is_regular_file(*file))
      throw core::UserError(fmt::format("{}: no such file", *file));
  if (data.train_file.empty()) data.train_file = data::glue_file(data.glue_dir, task, "train");
  if (data.dev_file.empty()) data.dev_file = data::glue_file(data.glue_dir, task, "dev");
  prepare_output_dir(run.train);
  auto model =
      encoder_with_new_head(encoder_dir, run, "classification", task.num_labels(), from_scratch);
  EncoderFinetuneOutcome outcome;
  outcome.training = train_glue(model, data, run);
  outcome.best = run.train.output_dir / "best";
  auto best = train::load_model(outcome.best, run.device);
  EvaluationOptions evaluation;
  evaluation.device = run.device;
  evaluation.glue_task = data.task;
  evaluation.glue_file = data.dev_file;
  evaluation.glue_dir = data.glue_dir;
  auto evaluator = make_evaluator(best, evaluation, outcome.best.string());
  evaluator->evaluate({});
  outcome.summary = evaluator->summary();
  outcome.metrics = evaluator->details();
  return outcome;
}

EncoderFinetuneOutcome finetune_squad_task(const fs::path& encoder_dir, const SquadRunOptions& data,
                                           const TrainingRun& run, bool from_scratch) {
  auto model = encoder_with_new_head(encoder_dir, run, "span", 2, from_scratch);
  const int64_t positions = model.model->config().max_position_embeddings;
  if (data.windows.max_length > positions)
    throw core::UserError(
        fmt::format("max_length {} (tokens per SQuAD window) must be at most "
                    "the model's {} positions",
                    data.windows.max_length, positions));
  // Only a run that can start gets its directory.
  prepare_output_dir(run.train);
  EncoderFinetuneOutcome outcome;
  outcome.training = train_squad(model, data, run);
  outcome.best = run.train.output_dir / "best";
  auto best = train::load_model(outcome.best, run.device);
  eval::SquadPredictOptions predict;
  predict.max_tokens = std::max(run.max_tokens, data.windows.max_length);
  predict.max_answer_length = data.max_answer_length;
  predict.device = run.device;
  const auto split = read_squad_split(data);
  const auto held_out = score_squad(*best.as<models::EncoderModelImpl>(), *best.tokenizer,
                                    split.held_out, data, predict);
  outcome.summary = held_out.summary();
  outcome.metrics = {{"exact_match", held_out.score.exact_match}, {"f1", held_out.score.f1}};
  return outcome;
}

}  // namespace slimformer::pipeline
