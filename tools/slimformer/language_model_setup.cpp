#include "language_model_setup.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "slimformer/core/error.h"
#include "slimformer/core/runtime.h"
#include "slimformer/data/text_file.h"
#include "slimformer/data/token_windows.h"
#include "slimformer/eval/language_model_task.h"
#include "slimformer/eval/perplexity.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

namespace fs = std::filesystem;

void add_language_model_data_options(CommandOptions& options) {
  options.add("data.train_text", "", "--task lm: training text (plain or .gz), one line each");
  options.add("data.valid_text", "", "--task lm: validation text");
  options.add("data.context", 128, "--task lm: tokens per training window");
}

namespace {

std::string required_text(const core::Settings& s, const std::string& key) {
  const std::string path = s.get_string(key);
  if (path.empty()) s.fail(key, "must name a text file for --task lm");
  return path;
}

}  // namespace

train::TrainResult run_language_model_training(const core::Settings& s, const CommonOptions& common,
                                               const std::string& command_line) {
  const torch::Device device = core::parse_device(common.device);
  train::TrainOptions train_options = train_options_from_settings(s);
  train_options.stop_requested = &g_stop_requested;
  const fs::path out = train_options.output_dir;
  const std::string train_path = required_text(s, "data.train_text"),
                    valid_path = required_text(s, "data.valid_text");
  const int64_t context = s.get_int_at_least("data.context", 2);
  auto check_context = [&](int64_t max_positions) {
    if (context > max_positions)
      s.fail("data.context",
             fmt::format("must be at most model.max_position_embeddings {}", max_positions));
  };
  if (!train_options.resume) check_context(s.get_int("model.max_position_embeddings"));
  prepare_output_dir(train_options);

  auto ckpt = resume_or_start<train::CausalLMCheckpoint>(
      train_options, [&](const fs::path& dir) { return train::load_causal_lm(dir, device); },
      [&] {
        train::CausalLMCheckpoint fresh;
        fresh.tokenizer = tokenizer_from_settings(s, data::read_lines(train_path), out);
        auto config = config_from_settings(s, fresh.tokenizer->size(), "causal_lm");
        config.bos_token_id = fresh.tokenizer->bos_id();
        config.eos_token_id = fresh.tokenizer->eos_id();
        config.validate("model options");
        fresh.model = models::CausalLM(config);
        fresh.model->to(device);
        return fresh;
      });
  auto& model = ckpt.model;
  auto& tokenizer = ckpt.tokenizer;

  eval::LanguageModelTaskOptions task_options;
  check_context(model->config().max_position_embeddings);
  task_options.context = context;
  task_options.max_tokens = s.get_int_at_least("train.max_tokens", task_options.context);
  task_options.label_smoothing = s.get_double_in("train.label_smoothing", 0, 1, true);
  task_options.seed = train_options.seed;
  task_options.device = device;
  auto train_lines = data::read_lines(train_path), valid_lines = data::read_lines(valid_path);
  auto train_stream = data::token_stream(*tokenizer, train_lines);
  auto valid_stream = data::token_stream(*tokenizer, valid_lines);
  spdlog::info("{} training tokens ({} lines), {} validation tokens; model {} parameters",
               train_stream.size(), train_lines.size(), valid_stream.size(),
               model->num_parameters());
  eval::LanguageModelTask task(model, tokenizer, ckpt.init, std::move(train_stream),
                               std::move(valid_stream), eval::count_words(valid_lines),
                               task_options);
  nlohmann::json record = {{"command", command_line}, {"options", s.to_nested_json()}};
  return run_with_progress(task, train_options, record);
}

}  // namespace slimformer::tools
