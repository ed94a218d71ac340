// slimformer finetune: fine-tune a pre-trained encoder (a slimformer checkpoint or a Hugging Face
// BERT directory) on a GLUE task, or the same architecture from random initialization as the
// control that shows what pre-training is worth.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "command_line.h"
#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/core/runtime.h"
#include "slimformer/eval/glue_task.h"
#include "slimformer/train/checkpoint.h"
#include "training_setup.h"

namespace slimformer::tools {

namespace fs = std::filesystem;

namespace {

void add_finetune_options(CommandOptions& options) {
  options.add_positional("model", "model", "encoder checkpoint (slimformer or Hugging Face BERT)");
  options.add("task.glue", "", "GLUE task: SST-2, MRPC, CoLA, STS-B, WNLI or QNLI", "--glue");
  options.add("task.from_scratch", false,
              "train the same architecture from its random initialization instead",
              "--from-scratch");
  options.add("data.glue_dir", "data/glue",
              "directory with <task>/train.tsv[.gz] and dev.tsv[.gz]");
  options.add("data.max_length", 128, "tokens per example, [CLS] and [SEP]s included");
  add_trainer_options(options);
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, nlohmann::json>>{{"train.optimizer", "adamw"},
                                                           {"train.lr", 1e-4},
                                                           {"train.weight_decay", 0.01},
                                                           {"train.schedule", "linear"},
                                                           {"train.warmup_steps", 100},
                                                           {"train.max_steps", 1000},
                                                           {"train.max_tokens", 4096},
                                                           {"train.label_smoothing", 0.0},
                                                           {"train.validate_every", 200},
                                                           {"output", "runs/finetune"}})
    options.set_default(key, value);
}

std::string glue_file(const core::Settings& s, const data::GlueTaskInfo& task,
                      const std::string& split) {
  const fs::path dir = fs::path(s.get_string("data.glue_dir")) / task.name;
  for (const char* suffix : {".tsv.gz", ".tsv"})
    if (fs::exists(dir / (split + suffix))) return (dir / (split + suffix)).string();
  s.fail("data.glue_dir", fmt::format("has no {}/{}.tsv or {}.tsv.gz", task.name, split, split));
  return {};
}

}  // namespace

void register_finetune(CLI::App& app) {
  auto* cmd = app.add_subcommand("finetune", "fine-tune an encoder on a GLUE task");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  add_finetune_options(*options);
  cmd->callback([options, common] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    const torch::Device device = core::parse_device(common->device);
    const std::string task_name = s.get_string("task.glue");
    if (task_name.empty()) s.fail("task.glue", "must name a GLUE task");
    const auto& task = data::glue_task(task_name);
    auto train_options = train_options_from_settings(s);
    train_options.stop_requested = &g_stop_requested;
    const fs::path out = train_options.output_dir;
    const int64_t max_length = s.get_int_at_least("data.max_length", 8);
    const auto train_examples = data::read_glue(glue_file(s, task, "train"), task);
    const auto dev_examples = data::read_glue(glue_file(s, task, "dev"), task);
    prepare_output_dir(train_options);

    auto ckpt = train_options.resume ? train::load_encoder(out / "last", device)
                                     : train::load_encoder(s.get_string("model"), device,
                                                           "classification", task.num_labels);
    if (!train_options.resume && s.get_bool("task.from_scratch")) {
      ckpt.model->initialize();  // the same architecture and seed, no pre-trained weights
      spdlog::info("training from random initialization (init_seed {})",
                   ckpt.model->config().init_seed);
    }
    if (ckpt.init.empty() || !train_options.resume) ckpt.init = copy_state(*ckpt.model);
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
    auto score = eval::glue_score(
        task,
        eval::predict_glue(*best.model,
                           eval::encode_glue(dev_examples, *best.tokenizer, max_length),
                           task_options.max_tokens, device),
        [&] {
          std::vector<double> labels;
          for (const auto& e : dev_examples) labels.push_back(e.label);
          return labels;
        }());
    fmt::print("fine-tuned {} steps in {:.0f} s, stopped by {}\n", result.steps, result.seconds,
               result.stop_reason);
    fmt::print("{} (dev, best checkpoint {}/best)\n", score.leaderboard, out.string());
  });
}

}  // namespace slimformer::tools
