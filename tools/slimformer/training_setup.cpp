#include "training_setup.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "command_line.h"
#include "commands.h"
#include "parallel_setup.h"
#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/core/runtime.h"
#include "slimformer/pipeline/progress_reports.h"
#include "slimformer/train/checkpoint.h"
#include "slimformer/train/distillation.h"

namespace slimformer::tools {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Model options are TransformerConfig's own fields (model.d_model, model.encoder_layers, ...).
const std::vector<std::string> kFixedConfigFields = {
    "model_type",   "vocab_size",   "removed_sublayers", "blocks",
    "pad_token_id", "unk_token_id", "bos_token_id",      "eos_token_id"};

bool is_model_option(const std::string& field) {
  return std::find(kFixedConfigFields.begin(), kFixedConfigFields.end(), field) ==
         kFixedConfigFields.end();
}

}  // namespace

models::TransformerConfig config_from_settings(const core::Settings& s, int64_t vocab_size,
                                               const std::string& model_type) {
  json defaults = models::TransformerConfig().to_json();
  json j = defaults;
  for (const auto& [field, value] : defaults.items()) {
    if (!is_model_option(field)) continue;
    const std::string key = "model." + field;
    if (value.is_boolean())
      j[field] = s.get_bool(key);
    else if (value.is_number_integer())
      j[field] = s.get_int(key);
    else if (value.is_number())
      j[field] = s.get_double(key);
    else
      j[field] = s.get_string(key);
  }
  j["vocab_size"] = vocab_size;
  j["model_type"] = model_type;
  if (model_type == "causal_lm") j["encoder_layers"] = 0;  // a decoder alone
  if (model_type == "encoder") j["decoder_layers"] = 0;    // an encoder alone
  return models::TransformerConfig::from_json(j, "model options");
}

train::TrainOptions train_options_from_settings(const core::Settings& s) {
  train::TrainOptions o;
  o.optimizer = s.get_choice("train.optimizer", {"adam", "adamw"});
  o.beta1 = s.get_double_in("train.beta1", 0, 1, true);
  o.beta2 = s.get_double_in("train.beta2", 0, 1, true);
  o.adam_eps = s.get_double_in("train.adam_eps", 0, 1, true);
  o.weight_decay = s.get_double_in("train.weight_decay", 0, 1, true);
  o.schedule.kind = s.get_choice("train.schedule", {"inverse_sqrt", "linear", "constant"});
  o.schedule.peak_lr = s.get_double_in("train.lr", 1e-12, 10, false);
  o.schedule.warmup_steps = s.get_int_at_least("train.warmup_steps", 0);
  o.max_steps = s.get_int_at_least("train.max_steps", 1);
  o.schedule.total_steps = o.max_steps;
  o.max_epochs = s.get_int_at_least("train.max_epochs", 0);
  o.update_freq = s.get_int_at_least("train.update_freq", 1);
  o.clip_norm = s.get_double_in("train.clip_norm", 0, 1e9, false);
  o.validate_every = s.get_int_at_least("train.validate_every", 0);
  o.patience = s.get_int_at_least("train.patience", 0);
  o.log_every = s.get_int_at_least("train.log_every", 1);
  o.seed = s.get_int("train.seed");
  o.on_non_finite = s.get_choice("train.on_non_finite", {"skip", "stop"});
  o.output_dir = s.get_string("output");
  if (o.output_dir.empty()) s.fail("output", "must name a directory");
  o.resume = s.get_bool("resume");
  const auto train_only = get_list(s, "train.train_only"), frozen = get_list(s, "train.freeze");
  if (!frozen.empty()) o.parameter_groups.push_back({frozen, 1.0, /*frozen=*/true});
  if (!train_only.empty()) {
    o.parameter_groups.push_back({train_only, 1.0, /*frozen=*/false});
    o.freeze_unmatched = true;
  }
  return o;
}

void add_new_model_options(CommandOptions& options) {
  options.add("vocab.model", "",
              "existing sentencepiece model; empty: train one on the training text", "--vocab");
  options.add("vocab.size", 8000, "vocabulary size when training one", "--vocab-size");
  options.add("vocab.type", "bpe", "bpe or unigram", "--vocab-type");
  json defaults = models::TransformerConfig().to_json();
  for (const auto& [field, value] : defaults.items())
    if (is_model_option(field)) options.add("model." + field, value, "model: " + field);
}

void add_distillation_options(CommandOptions& options) {
  options.add("distill.teacher", "", "distil from this checkpoint (the same family and head)",
              "--teacher");
  options.add("distill.temperature", 1.0, "softmax temperature of the soft targets");
  options.add("distill.task_weight", 1.0, "weight of the task's own loss");
  options.add("distill.logit_weight", 1.0, "weight of the soft cross-entropy against the teacher");
  options.add("distill.tap_weight", 0.0, "weight of the mean squared error between taps");
  options.add("distill.taps", "",
              "taps compared, comma-separated, each a name (\"encoder.layers.3\") or "
              "student_name=teacher_name");
}

void add_trainer_options(CommandOptions& options) {
  options.add("train.optimizer", "adam", "adam or adamw");
  options.add("train.lr", 5e-4, "peak learning rate");
  options.add("train.beta1", 0.9, "Adam beta1");
  options.add("train.beta2", 0.98, "Adam beta2");
  options.add("train.adam_eps", 1e-9, "Adam epsilon");
  options.add("train.weight_decay", 0.0, "weight decay");
  options.add("train.schedule", "inverse_sqrt", "inverse_sqrt, linear or constant");
  options.add("train.warmup_steps", 4000, "linear warm-up updates");
  options.add("train.max_steps", 20000, "optimizer updates");
  options.add("train.max_epochs", 0, "stop after this many epochs (0: no limit)");
  options.add("train.max_tokens", 4096, "tokens per batch, padding included");
  options.add("train.update_freq", 1, "batches accumulated per update");
  options.add("train.clip_norm", 0.0, "gradient norm clipping (0: off)");
  options.add("train.label_smoothing", 0.1, "label smoothing epsilon");
  options.add("train.validate_every", 1000, "validate (loss, BLEU) every N updates");
  options.add("train.bleu_samples", 500, "validation sentences decoded for BLEU (0: loss only)");
  options.add("train.patience", 0, "stop after N validations without improvement (0: never)");
  options.add("train.log_every", 50, "log every N updates");
  options.add("train.seed", 1, "seed for batching and dropout");
  options.add("train.on_non_finite", "skip",
              "an update with a NaN or infinite loss or gradient: skip it (counted in the log) "
              "or stop with a resumable checkpoint");
  options.add("train.freeze", "",
              "freeze the parameters matching these patterns (comma-separated, e.g. "
              "\"embed_tokens.*,encoder.layers.0.**\")");
  options.add("train.train_only", "",
              "train only the parameters matching these patterns and freeze the rest (e.g. "
              "\"decoder.layers.*.self_attn.**\")");
  options.add("output", "runs/train", "run directory (checkpoints, logs, results.json)",
              "--output");
  options.add("resume", false, "resume the run in --output from its last checkpoint", "--resume");
}

namespace {

// Training on several workers: a worker other than 0 joins the group before anything is loaded
// and resumes from the checkpoint worker 0 writes before it joins (train/trainer.h).
void join_data_parallel(const core::Settings& s, const CommonOptions& common,
                        pipeline::TrainingRun& run) {
  if (s.get_int("parallel.nproc") > 1)
    pipeline::prepare_output_dir(run.train);  // refuses a used directory before workers start
  run.train.data_parallel = data_parallel_from_settings(s, common, run.train.output_dir);
  const auto& dp = run.train.data_parallel;
  if (!dp.enabled() || dp.is_primary()) return;
  run.train.workers = train::Collective::join(dp);
  run.train.resume = true;
}

}  // namespace

std::shared_ptr<data::Tokenizer> tokenizer_from_settings(const core::Settings& s,
                                                         const std::vector<std::string>& lines,
                                                         const fs::path& output, bool with_mask) {
  data::VocabTrainOptions vo;
  vo.vocab_size = s.get_int_at_least("vocab.size", 16);
  vo.model_type = s.get_choice("vocab.type", {"bpe", "unigram"});
  vo.with_mask = with_mask;
  return pipeline::tokenizer_for_new_model(s.get_string("vocab.model"), vo, lines, output);
}

std::vector<std::string> masked_lm_texts(const core::Settings& s) {
  auto texts = get_list(s, "data.train_text");
  if (texts.empty()) s.fail("data.train_text", "must name at least one text file");
  return texts;
}

pipeline::MaskedLMData masked_lm_data(const core::Settings& s) {
  pipeline::MaskedLMData data;
  data.max_length = s.get_int_at_least("data.max_length", 8);
  data.valid_pairs = s.get_int_at_least("data.valid_pairs", 1);
  data.mask_probability = s.get_double_in("data.mask_probability", 0, 1, false);
  return data;
}

pipeline::TrainingRun training_run(const core::Settings& s, const CommonOptions& common,
                                   const std::string& label) {
  pipeline::TrainingRun run;
  run.train = train_options_from_settings(s);
  run.train.stop_requested = &g_stop_requested;
  run.device = core::parse_device(common.device);
  run.max_tokens = s.get_int_at_least("train.max_tokens", 16);
  run.label_smoothing = s.get_double_in("train.label_smoothing", 0, 1, true);
  run.record = {{"command", command_line()}, {"options", s.to_nested_json()}};
  if (s.has("distill.teacher") && !s.get_string("distill.teacher").empty()) {
    train::DistillationOptions d;
    d.temperature = s.get_double_in("distill.temperature", 1e-6, 1e6, false);
    d.task_weight = s.get_double_in("distill.task_weight", 0, 1e6, false);
    d.logit_weight = s.get_double_in("distill.logit_weight", 0, 1e6, false);
    d.tap_weight = s.get_double_in("distill.tap_weight", 0, 1e6, false);
    d.taps = get_list(s, "distill.taps");
    const std::string dir = s.get_string("distill.teacher");
    spdlog::info("distilling from {}", dir);
    run.teacher = std::make_shared<train::Teacher>(train::load_model(dir, run.device).model, d);
  }
  run.callbacks = pipeline::training_progress(label);
  if (s.has("parallel.nproc")) join_data_parallel(s, common, run);
  return run;
}

}  // namespace slimformer::tools
