// slimformer finetune: fine-tune a pre-trained encoder (a slimformer checkpoint or a Hugging Face
// BERT directory) on a GLUE task or on SQuAD v1.1, or the same architecture from random
// initialization as the control that shows what pre-training is worth.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "command_line.h"
#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/runtime.h"
#include "slimformer/eval/glue_task.h"
#include "slimformer/eval/squad_task.h"
#include "slimformer/train/checkpoint.h"
#include "squad_setup.h"
#include "training_setup.h"

namespace slimformer::tools {

namespace fs = std::filesystem;

namespace {

void add_finetune_options(CommandOptions& options) {
  options.add_positional("model", "model", "encoder checkpoint (slimformer or Hugging Face BERT)");
  options.add("task.glue", "", "GLUE task: SST-2, MRPC, CoLA, STS-B, WNLI or QNLI", "--glue");
  options.add("task.squad", false, "extractive QA on SQuAD v1.1 instead of a GLUE task", "--squad");
  options.add("task.from_scratch", false,
              "train the same architecture from its random initialization instead",
              "--from-scratch");
  options.add("data.glue_dir", "data/glue",
              "directory with <task>/train.tsv[.gz] and dev.tsv[.gz]");
  options.add("data.max_length", 128, "tokens per example, [CLS] and [SEP]s included");
  add_squad_options(options);
  add_trainer_options(options);
  options.set_defaults({{"train.optimizer", "adamw"},
                        {"train.lr", 1e-4},
                        {"train.weight_decay", 0.01},
                        {"train.schedule", "linear"},
                        {"train.warmup_steps", 100},
                        {"train.max_steps", 1000},
                        {"train.max_tokens", 4096},
                        {"train.label_smoothing", 0.0},
                        {"train.validate_every", 200},
                        {"output", "runs/finetune"}});
}

std::string glue_file(const core::Settings& s, const data::GlueTaskInfo& task,
                      const std::string& split) {
  const fs::path dir = fs::path(s.get_string("data.glue_dir")) / task.name;
  for (const char* suffix : {".tsv.gz", ".tsv"})
    if (fs::exists(dir / (split + suffix))) return (dir / (split + suffix)).string();
  s.fail("data.glue_dir", fmt::format("has no {}/{}.tsv or {}.tsv.gz", task.name, split, split));
  return {};
}

// The model to fine-tune: the run's last checkpoint when resuming, else the pre-trained body with
// a fresh `head` (or, with --from-scratch, the same architecture re-initialized from its seed).
train::EncoderCheckpoint model_to_finetune(const core::Settings& s,
                                           const train::TrainOptions& train_options,
                                           const std::string& head, int64_t num_labels,
                                           const torch::Device& device) {
  return resume_or_start<train::EncoderCheckpoint>(
      train_options, [&](const fs::path& dir) { return train::load_encoder(dir, device); },
      [&] {
        auto ckpt = train::load_encoder(s.get_string("model"), device, head, num_labels);
        if (s.get_bool("task.from_scratch")) {
          ckpt.model->initialize();
          spdlog::info("training from random initialization (init_seed {})",
                       ckpt.model->config().init_seed);
        }
        return ckpt;
      });
}

void finetune_glue(const core::Settings& s, train::TrainOptions train_options,
                   const torch::Device& device) {
  const auto& task = data::glue_task(s.get_string("task.glue"));
  const fs::path out = train_options.output_dir;
  const int64_t max_length = s.get_int_at_least("data.max_length", 8);
  const auto train_examples = data::read_glue(glue_file(s, task, "train"), task);
  const auto dev_examples = data::read_glue(glue_file(s, task, "dev"), task);
  prepare_output_dir(train_options);

  auto ckpt = model_to_finetune(s, train_options, "classification", task.num_labels, device);
  auto train = eval::encode_glue(train_examples, *ckpt.tokenizer, max_length);
  auto dev = eval::encode_glue(dev_examples, *ckpt.tokenizer, max_length);
  spdlog::info("{}: {} training and {} dev examples; model {} parameters", task.name,
               train.inputs.size(), dev.inputs.size(), ckpt.model->num_parameters());

  eval::GlueTaskOptions task_options;
  task_options.max_tokens = s.get_int_at_least("train.max_tokens", max_length);
  task_options.seed = train_options.seed;
  task_options.device = device;
  eval::GlueFinetuneTask finetune(ckpt.model, ckpt.tokenizer, ckpt.init, task, std::move(train),
                                  std::move(dev), task_options);
  nlohmann::json record = {{"command", command_line()}, {"options", s.to_nested_json()}};
  auto result = run_with_progress(finetune, train_options, record);
  auto best = train::load_encoder(out / "best", device);
  std::vector<double> labels;
  for (const auto& e : dev_examples) labels.push_back(e.label);
  auto score = eval::glue_score(
      task,
      eval::predict_glue(*best.model, eval::encode_glue(dev_examples, *best.tokenizer, max_length),
                         task_options.max_tokens, device),
      labels);
  fmt::print("fine-tuned {} steps in {:.0f} s ({:.0f} input tokens/s), stopped by {}\n",
             result.steps, result.seconds, result.tokens_per_second, result.stop_reason);
  fmt::print("{} (dev, best checkpoint {}/best)\n", score.leaderboard, out.string());
}

void finetune_squad(const core::Settings& s, train::TrainOptions train_options,
                    const torch::Device& device) {
  const fs::path out = train_options.output_dir;
  prepare_output_dir(train_options);
  auto ckpt = model_to_finetune(s, train_options, "span", 2, device);
  const auto run = squad_run_options(s, ckpt.model->config());
  const auto split = read_squad_split(run);
  auto train = data::make_squad_windows(split.train, *ckpt.tokenizer, run.windows);
  auto valid = data::make_squad_windows(split.valid, *ckpt.tokenizer, run.windows);
  spdlog::info(
      "SQuAD: {} training questions in {} windows, {} validation questions; model {} "
      "parameters",
      train.questions.size(), train.windows.size(), valid.questions.size(),
      ckpt.model->num_parameters());

  eval::SquadTaskOptions task_options;
  task_options.max_tokens = s.get_int_at_least("train.max_tokens", run.windows.max_length);
  task_options.max_answer_length = run.max_answer_length;
  task_options.seed = train_options.seed;
  task_options.device = device;
  eval::SquadFinetuneTask finetune(ckpt.model, ckpt.tokenizer, ckpt.init, std::move(train),
                                   split.valid, std::move(valid), task_options);
  nlohmann::json record = {{"command", command_line()}, {"options", s.to_nested_json()}};
  auto result = run_with_progress(finetune, train_options, record);
  auto best = train::load_encoder(out / "best", device);
  const auto score = score_squad(*best.model, *best.tokenizer, split.held_out, run, task_options);
  fmt::print("fine-tuned {} steps in {:.0f} s ({:.0f} input tokens/s), stopped by {}\n",
             result.steps, result.seconds, result.tokens_per_second, result.stop_reason);
  fmt::print("{} (best checkpoint {}/best)\n", score, out.string());
}

}  // namespace

void register_finetune(CLI::App& app) {
  auto* cmd = app.add_subcommand("finetune", "fine-tune an encoder on a GLUE task or SQuAD");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  add_finetune_options(*options);
  cmd->callback([options, common] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    const torch::Device device = core::parse_device(common->device);
    auto train_options = train_options_from_settings(s);
    train_options.stop_requested = &g_stop_requested;
    const bool squad = s.get_bool("task.squad");
    const bool glue = !s.get_string("task.glue").empty();
    if (squad && glue) s.fail("task.squad", "cannot be combined with --glue");
    if (!squad && !glue) s.fail("task.glue", "must name a GLUE task, or give --squad");
    if (squad)
      finetune_squad(s, train_options, device);
    else
      finetune_glue(s, train_options, device);
  });
}

}  // namespace slimformer::tools
