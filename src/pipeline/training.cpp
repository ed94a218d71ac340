#include "slimformer/pipeline/training.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/data/glue.h"
#include "slimformer/data/parallel_corpus.h"
#include "slimformer/data/text_file.h"
#include "slimformer/data/token_windows.h"
#include "slimformer/eval/perplexity.h"
#include "slimformer/methods/magnitude/gradual_pruning.h"
#include "slimformer/methods/magnitude/magnitude_pruning.h"
#include "slimformer/pipeline/evaluation.h"
#include "slimformer/pipeline/pretrain_corpus.h"
#include "slimformer/tasks/glue_task.h"
#include "slimformer/tasks/language_model_task.h"
#include "slimformer/tasks/masked_lm_task.h"
#include "slimformer/tasks/multi_task_glue_task.h"
#include "slimformer/tasks/squad_task.h"
#include "slimformer/tasks/translation_task.h"

namespace slimformer::pipeline {

namespace fs = std::filesystem;

namespace {

void refuse_teacher(const TrainingRun& run, const char* what) {
  if (run.teacher)
    throw core::UserError(fmt::format(
        "{} does not distil from a teacher (GLUE, SQuAD and masked-LM training do)", what));
}

// Seeds dropout, runs the trainer, writes results.json.
train::TrainResult run_task(train::TrainingTask& task, const TrainingRun& run) {
  torch::manual_seed(static_cast<uint64_t>(run.train.seed));
  auto result = train::run_training(task, run.train, run.record, run.callbacks);
  write_run_results(run.train, result, task.model());
  return result;
}

// The task and its files: a GLUE task's (its files under glue_dir unless given), a user's, or the
// one the model records.
struct TaskFiles {
  data::TextTask task;
  std::string train, dev;
};
TaskFiles task_files(const GlueData& data, const nlohmann::json& record) {
  RecordedTextTask recorded;
  if (!data.task.empty())
    recorded = {data::glue_task(data.task), true, "", ""};
  else if (data.custom)
    recorded = {*data.custom, false, "", ""};
  else
    recorded = recorded_text_task(record);
  if (!recorded.task)
    throw core::UserError(
        "fine-tuning a classifier needs a task: --glue TASK, or a file's columns "
        "(--text-columns, --label-column)");
  TaskFiles files{*recorded.task, data.train_file, data.dev_file};
  for (auto [given, split] : {std::pair{&files.train, "train"}, std::pair{&files.dev, "dev"}}) {
    if (given->empty()) *given = recorded.split_file(split, data.glue_dir);
    if (given->empty())
      throw core::UserError(
          fmt::format("task {} is not a GLUE task: give its --{}-file", files.task.name, split));
  }
  return files;
}

// The examples of a task's file; malformed rows stop the run, or are left out and counted.
std::vector<data::TextExample> read_examples(const std::string& path, const data::TextTask& task,
                                             bool skip_malformed) {
  auto rows = data::read_text_task(path, task, skip_malformed);
  if (rows.skipped > 0)
    spdlog::warn("{}: left out {} malformed rows (the first: {})", path, rows.skipped,
                 rows.first_skipped);
  return std::move(rows.examples);
}

}  // namespace

std::shared_ptr<data::Tokenizer> tokenizer_for_new_model(const std::string& given,
                                                         const data::VocabTrainOptions& options,
                                                         const std::vector<std::string>& lines,
                                                         const fs::path& output) {
  if (!given.empty()) return data::load_tokenizer_file(given);
  spdlog::info("training a {} vocabulary of {} pieces", options.model_type, options.vocab_size);
  return std::make_shared<data::Vocab>(data::Vocab::train_on_lines(
      lines, (output / "vocab" / data::Vocab::kFileName).string(), options));
}

void prepare_output_dir(const train::TrainOptions& options) {
  const fs::path& out = options.output_dir;
  // A new run never writes over an earlier one: its checkpoints and log would be mixed or lost.
  if (!options.resume && fs::exists(out / "last"))
    throw core::UserError(
        fmt::format("--output {} already holds a training run; add --resume to continue it or "
                    "choose another --output",
                    out.string()));
  fs::create_directories(out);
}

void write_run_results(const train::TrainOptions& options, const train::TrainResult& result,
                       models::ModelTree& model) {
  nlohmann::json results = {{"steps", result.steps},
                            {"seconds", result.seconds},
                            {"target_tokens_per_second", result.tokens_per_second},
                            {"stop_reason", result.stop_reason},
                            {"best", result.best},
                            {"parameters", model.num_parameters()},
                            {"best_checkpoint", (options.output_dir / "best").string()}};
  core::write_text_atomically(options.output_dir / "results.json", results.dump(2) + "\n");
}

train::TrainResult train_translation(train::LoadedModel& model, const TranslationData& data,
                                     const TrainingRun& run) {
  auto typed = require_family<models::Seq2SeqTransformerImpl>(
      model, "translation training needs a translation model", "this model");
  refuse_teacher(run, "translation training");
  auto vocab = std::dynamic_pointer_cast<data::Vocab>(model.tokenizer);
  if (!vocab) throw core::UserError("a translation model needs a sentencepiece vocabulary");
  auto train_text = data::read_parallel(data.train_src, data.train_tgt);
  auto valid_text = data::read_parallel(data.valid_src, data.valid_tgt);
  const int64_t positions = typed->config().max_position_embeddings;
  const int64_t max_length = std::min(data.max_length, positions);
  auto train_pairs = data::tokenize_pairs(train_text, *vocab, max_length);
  auto valid_pairs = data::tokenize_pairs(valid_text, *vocab, positions - 1);
  spdlog::info(
      "{} training pairs ({} dropped over {} tokens), {} validation pairs; model {} parameters",
      train_pairs.size(), train_text.source.size() - train_pairs.size(), max_length,
      valid_pairs.size(), typed->num_parameters());
  tasks::TranslationTaskOptions options;
  options.max_tokens = run.max_tokens;
  options.label_smoothing = run.label_smoothing;
  options.bleu_samples = data.bleu_samples;
  options.seed = run.train.seed;
  options.device = run.device;
  tasks::TranslationTask task(models::Seq2SeqTransformer(typed), *vocab, model.init,
                              std::move(train_pairs), std::move(valid_pairs), std::move(valid_text),
                              options);
  return run_task(task, run);
}

train::TrainResult train_language_model(train::LoadedModel& model, const LanguageModelData& data,
                                        const TrainingRun& run) {
  auto typed = require_family<models::CausalLMImpl>(
      model, "language-model training needs a causal language model", "this model");
  refuse_teacher(run, "language-model training");
  if (data.train_text.empty() || data.valid_text.empty())
    throw core::UserError("language-model training needs --train-text and --valid-text");
  if (data.context > typed->config().max_position_embeddings)
    throw core::UserError(fmt::format("--context {} exceeds the model's {} positions", data.context,
                                      typed->config().max_position_embeddings));
  auto train_lines = data::read_lines(data.train_text);
  auto valid_lines = data::read_lines(data.valid_text);
  auto train_stream = data::token_stream(*model.tokenizer, train_lines);
  auto valid_stream = data::token_stream(*model.tokenizer, valid_lines);
  spdlog::info("{} training tokens ({} lines), {} validation tokens; model {} parameters",
               train_stream.size(), train_lines.size(), valid_stream.size(),
               typed->num_parameters());
  tasks::LanguageModelTaskOptions options;
  options.context = data.context;
  options.max_tokens = std::max(run.max_tokens, data.context);
  options.label_smoothing = run.label_smoothing;
  options.seed = run.train.seed;
  options.device = run.device;
  tasks::LanguageModelTask task(models::CausalLM(typed), model.tokenizer, model.init,
                                std::move(train_stream), std::move(valid_stream),
                                eval::count_words(valid_lines), options);
  return run_task(task, run);
}

train::TrainResult train_glue(train::LoadedModel& model, const GlueData& data,
                              const TrainingRun& run) {
  auto typed = require_family<models::EncoderModelImpl>(model, "GLUE fine-tuning needs an encoder",
                                                        "this model");
  const auto [task, train_file, dev_file] = task_files(data, model.record);
  const auto& config = typed->config();
  if (config.num_labels != task.num_labels())
    throw core::UserError(fmt::format("this model has {} outputs; task {} has {}",
                                      config.num_labels, task.name, task.num_labels()));
  const auto train_examples = read_examples(train_file, task, data.skip_malformed);
  const auto dev_examples = read_examples(dev_file, task, data.skip_malformed);
  auto train = eval::encode_glue(train_examples, *model.tokenizer, data.max_length);
  auto dev = eval::encode_glue(dev_examples, *model.tokenizer, data.max_length);
  spdlog::info("{}: {} training and {} dev examples; model {} parameters", task.name,
               train.inputs.size(), dev.inputs.size(), typed->num_parameters());
  tasks::GlueTaskOptions options;
  options.max_tokens = std::max(run.max_tokens, data.max_length);
  options.seed = run.train.seed;
  options.device = run.device;
  options.teacher = run.teacher;
  tasks::GlueFinetuneTask finetune(models::EncoderModel(typed), model.tokenizer, model.init, task,
                                   std::move(train), std::move(dev), options);
  // The checkpoint records its task, so that it is evaluated and fine-tuned again on it.
  TrainingRun recorded = run;
  recorded.record["task"] = text_task_record(task, train_file, dev_file);
  return run_task(finetune, recorded);
}

tasks::TaskParts read_glue_parts(const std::vector<std::string>& names, const GlueData& data,
                                 const data::Tokenizer& tokenizer, int64_t held_out_every) {
  if (names.empty()) throw core::UserError("fine-tuning on several tasks needs at least one task");
  std::vector<std::string> files;
  for (const auto& name : names) {
    const auto& task = data::glue_task(name);
    const auto file = data::glue_file(data.glue_dir, task, "train");
    // MNLI and MNLI-MM differ only in their dev sets: two heads would learn one training file.
    if (std::find(files.begin(), files.end(), file) != files.end())
      throw core::UserError(fmt::format(
          "{} trains on {}, as another of the tasks does; name the task once", task.name, file));
    files.push_back(file);
  }
  std::vector<tasks::TaskPart> parts;
  for (size_t t = 0; t < names.size(); ++t) {
    const auto& task = data::glue_task(names[t]);
    const auto& file = files[t];
    std::vector<data::TextExample> train, held_out;
    auto examples = read_examples(file, task, data.skip_malformed);
    for (size_t i = 0; i < examples.size(); ++i)
      (held_out_every > 0 && (i + 1) % held_out_every == 0 ? held_out : train)
          .push_back(std::move(examples[i]));
    if (train.empty() || held_out.empty())
      throw core::UserError(
          fmt::format("{}: too few examples to hold out every {}th", file, held_out_every));
    spdlog::info("{}: {} training examples, {} held out to score", task.name, train.size(),
                 held_out.size());
    parts.push_back({task, eval::encode_glue(train, tokenizer, data.max_length),
                     eval::encode_glue(held_out, tokenizer, data.max_length)});
  }
  return std::make_shared<const std::vector<tasks::TaskPart>>(std::move(parts));
}

train::TrainResult train_multi_task_glue(train::LoadedModel& model, tasks::TaskParts parts,
                                         const TrainingRun& run) {
  refuse_teacher(run, "fine-tuning on several tasks at once");
  auto typed = require_family<models::EncoderModelImpl>(
      model, "fine-tuning on several tasks needs an encoder", "this model");
  tasks::GlueTaskOptions options;
  options.max_tokens = run.max_tokens;
  options.seed = run.train.seed;
  options.device = run.device;
  tasks::MultiTaskGlueTask finetune(models::EncoderModel(typed), model.tokenizer, model.init,
                                    std::move(parts), options);
  return run_task(finetune, run);
}

train::TrainResult train_squad(train::LoadedModel& model, const SquadRunOptions& data,
                               const TrainingRun& run) {
  auto typed = require_family<models::EncoderModelImpl>(model, "SQuAD fine-tuning needs an encoder",
                                                        "this model");
  const auto split = read_squad_split(data);
  auto train = data::make_squad_windows(split.train, *model.tokenizer, data.windows);
  auto valid = data::make_squad_windows(split.valid, *model.tokenizer, data.windows);
  spdlog::info(
      "SQuAD: {} training questions in {} windows, {} validation questions; model {} "
      "parameters",
      train.questions.size(), train.windows.size(), valid.questions.size(),
      typed->num_parameters());
  tasks::SquadTaskOptions options;
  options.max_tokens = std::max(run.max_tokens, data.windows.max_length);
  options.max_answer_length = data.max_answer_length;
  options.seed = run.train.seed;
  options.device = run.device;
  options.teacher = run.teacher;
  tasks::SquadFinetuneTask finetune(models::EncoderModel(typed), model.tokenizer, model.init,
                                    std::move(train), split.valid, std::move(valid), options);
  TrainingRun recorded = run;
  recorded.record["task"] = {{"squad", squad_options_json(data)}};
  return run_task(finetune, recorded);
}

std::unique_ptr<tasks::MaskedLMTask> masked_lm_task(train::LoadedModel& model,
                                                    const std::vector<std::string>& corpus,
                                                    const MaskedLMData& data,
                                                    const TrainingRun& run) {
  auto typed = require_family<models::EncoderModelImpl>(
      model, "masked-LM pre-training needs an encoder", "this model");
  if (data.max_length > typed->config().max_position_embeddings)
    throw core::UserError(fmt::format("--max-length {} exceeds the model's {} positions",
                                      data.max_length, typed->config().max_position_embeddings));
  auto pairs = masked_lm_pairs(*model.tokenizer, corpus, data.max_length, run.train.seed);
  if (static_cast<int64_t>(pairs.size()) <= data.valid_pairs)
    throw core::UserError(
        fmt::format("--valid-pairs {} must be below the {} sentence pairs of the text",
                    data.valid_pairs, pairs.size()));
  std::vector<data::SegmentPair> valid(pairs.end() - data.valid_pairs, pairs.end());
  pairs.resize(pairs.size() - data.valid_pairs);
  int64_t tokens = 0;
  for (const auto& p : pairs) tokens += p.tokens.size();
  spdlog::info("{} training pairs ({} tokens), {} validation pairs; model {} parameters",
               pairs.size(), tokens, valid.size(), typed->num_parameters());
  tasks::MaskedLMTaskOptions options;
  options.max_tokens = std::max(run.max_tokens, data.max_length);
  options.mask_probability = data.mask_probability;
  options.seed = run.train.seed;
  options.device = run.device;
  options.teacher = run.teacher;
  return std::make_unique<tasks::MaskedLMTask>(models::EncoderModel(typed), model.tokenizer,
                                               model.init, std::move(pairs), std::move(valid),
                                               options);
}

train::TrainResult train_masked_lm(train::LoadedModel& model,
                                   const std::vector<std::string>& corpus, const MaskedLMData& data,
                                   const TrainingRun& run) {
  auto task = masked_lm_task(model, corpus, data, run);
  return run_task(*task, run);
}

namespace {

// Trained weights are almost never exactly zero; past this fraction a model was pruned.
constexpr double kPrunedSparsity = 0.05;

// A model pruned before (by sparsify, or by an earlier step of a chain) stays sparse through any
// later fine-tuning: its zero weights are held at zero, unless the run prunes by magnitude
// itself (whose masks keep zeros as the smallest weights).
void hold_zeros_of_pruned_model(models::ModelTree& model, TrainingRun& run) {
  for (const auto& hook : run.train.hooks)
    if (hook->name() == "magnitude_pruning") return;
  const auto names = methods::select_matrices(model, {}, /*embeddings=*/true);
  const double sparsity = methods::overall_sparsity(methods::sparsity_table(model, names));
  if (sparsity < kPrunedSparsity) return;
  spdlog::info("holding the pruned model's zero weights ({:.0f}% of its prunable weights) at zero",
               100 * sparsity);
  methods::PruningSchedule hold;
  hold.target = 0.0;
  hold.end = 1;
  run.train.hooks.push_back(
      std::make_shared<methods::GradualPruning>(hold, methods::MatrixChoice{}, true));
}

}  // namespace

train::TrainResult finetune_checkpoint(const fs::path& start_from, const FinetuneData& data,
                                       TrainingRun run) {
  const fs::path last = run.train.output_dir / "last";
  // --resume continues a fine-tuning run that has started; one that has not starts afresh.
  if (run.train.resume && !fs::exists(last)) run.train.resume = false;
  prepare_output_dir(run.train);
  auto model = train::load_model(run.train.resume ? last : start_from, run.device);
  run.record["finetuned_from"] = start_from.string();
  hold_zeros_of_pruned_model(*model.model, run);
  spdlog::info("fine-tuning {} for {} updates into {}", start_from.string(), run.train.max_steps,
               run.train.output_dir.string());
  const auto& config = model.model->config();
  if (config.model_type == "seq2seq") return train_translation(model, data.translation, run);
  if (config.is_causal_lm()) return train_language_model(model, data.language_model, run);
  if (config.encoder_head == "classification") {
    // Without a task of its own, the run takes the one the checkpoint records (train_glue).
    return train_glue(model, data.glue, run);
  }
  if (config.encoder_head == "span") {
    return train_squad(model, data.squad, run);
  }
  throw core::UserError(fmt::format(
      "{} is a masked-LM encoder: continue its pre-training with pretrain --resume, or fine-tune "
      "it on a task with finetune",
      start_from.string()));
}

}  // namespace slimformer::pipeline
