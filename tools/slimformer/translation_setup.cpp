#include "translation_setup.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "progress.h"
#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/core/runtime.h"
#include "slimformer/data/text_file.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

namespace fs = std::filesystem;
using nlohmann::json;

void add_translation_train_options(CommandOptions& options, bool new_model) {
  options.add("data.train_src", "data/multi30k/train.en.gz", "training source text (plain or .gz)");
  options.add("data.train_tgt", "data/multi30k/train.de.gz", "training target text, line-aligned");
  options.add("data.valid_src", "data/multi30k/val.en.gz", "validation source text");
  options.add("data.valid_tgt", "data/multi30k/val.de.gz", "validation target text");
  options.add("data.max_length", 128, "drop training pairs longer than this many tokens");
  if (new_model) add_new_model_options(options);
  add_trainer_options(options);
}

TranslationRunResult run_translation_training(const core::Settings& s, const CommonOptions& common,
                                              const std::string& command_line,
                                              const fs::path& start_from) {
  const torch::Device device = core::parse_device(common.device);
  train::TrainOptions train_options = train_options_from_settings(s);
  train_options.stop_requested = &g_stop_requested;
  const fs::path out = train_options.output_dir;
  prepare_output_dir(train_options);

  // Model and vocabulary: resumed, fine-tuned from a checkpoint, or new.
  models::Seq2SeqTransformer model{nullptr};
  data::Vocab vocab;
  core::TensorMap init;
  const fs::path resume_dir = out / "last";
  if (train_options.resume || !start_from.empty()) {
    auto ckpt = train::load_seq2seq(train_options.resume ? resume_dir : start_from, device);
    model = ckpt.model, vocab = ckpt.vocab, init = ckpt.init;
    if (train_options.resume) spdlog::info("resuming {}", resume_dir.string());
  } else {
    const std::string vocab_path = s.get_string("vocab.model");
    vocab = vocab_path.empty()
                ? train_vocab(s,
                              data::read_lines(std::vector<std::string>{
                                  s.get_string("data.train_src"), s.get_string("data.train_tgt")}),
                              out)
                : data::Vocab::load(vocab_path);
    model = models::Seq2SeqTransformer(config_from_settings(s, vocab.size(), "seq2seq"));
    init = copy_state(*model);
    model->to(device);
  }

  auto train_text =
      data::read_parallel(s.get_string("data.train_src"), s.get_string("data.train_tgt"));
  auto valid_text =
      data::read_parallel(s.get_string("data.valid_src"), s.get_string("data.valid_tgt"));
  const int64_t max_length =
      std::min(s.get_int_at_least("data.max_length", 2), model->config().max_position_embeddings);
  auto train_pairs = data::tokenize_pairs(train_text, vocab, max_length);
  auto valid_pairs =
      data::tokenize_pairs(valid_text, vocab, model->config().max_position_embeddings - 1);
  spdlog::info(
      "{} training pairs ({} dropped over {} tokens), {} validation pairs; model {} parameters",
      train_pairs.size(), train_text.source.size() - train_pairs.size(), max_length,
      valid_pairs.size(), model->num_parameters());

  eval::TranslationTaskOptions task_options;
  task_options.max_tokens = s.get_int_at_least("train.max_tokens", 16);
  task_options.label_smoothing = s.get_double_in("train.label_smoothing", 0, 1, true);
  task_options.bleu_samples = s.get_int_at_least("train.bleu_samples", 0);
  task_options.seed = train_options.seed;
  task_options.device = device;
  eval::TranslationTask task(model, vocab, init, std::move(train_pairs), std::move(valid_pairs),
                             std::move(valid_text), task_options);

  json record = {{"command", command_line}, {"options", s.to_nested_json()}};
  auto result = run_with_progress(task, train_options, record);
  return {result, out};
}

}  // namespace slimformer::tools
