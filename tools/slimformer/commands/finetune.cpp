// slimformer finetune: fine-tune a pre-trained encoder (a slimformer checkpoint or a Hugging Face
// BERT directory) on a GLUE task, on a user's own labelled TSV or CSV file (its columns named by
// options), or on SQuAD v1.1; or the same architecture from random initialization as the control
// that shows what pre-training is worth.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "command_line.h"
#include "commands.h"
#include "options.h"
#include "pruning_setup.h"
#include "slimformer/core/error.h"
#include "slimformer/core/runtime.h"
#include "slimformer/data/glue.h"
#include "slimformer/pipeline/encoder_finetune.h"
#include "slimformer/pipeline/training_defaults.h"
#include "slimformer/train/checkpoint.h"
#include "squad_setup.h"
#include "training_setup.h"

namespace slimformer::tools {

namespace fs = std::filesystem;

namespace {

void add_finetune_options(CommandOptions& options) {
  options.add_positional("model", "model", "encoder checkpoint (slimformer or Hugging Face BERT)");
  options.add("task.glue", "",
              "GLUE task: CoLA, SST-2, MRPC, STS-B, QQP, MNLI, MNLI-MM, QNLI, RTE or WNLI",
              "--glue");
  options.add("task.text_columns", "",
              "your own task: the text column, or two for sentence pairs (header names or "
              "0-based numbers, comma-separated)");
  options.add("task.label_column", "", "your own task: the label column (name or number)");
  options.add("task.labels", "",
              "your own task: the class labels as the file writes them (comma-separated)");
  options.add("task.regression", false, "your own task: the label is a score, not a class");
  options.add("task.name", "", "your own task's name (default: the train file's name)",
              "--task-name");
  options.add("task.metric", "",
              "your own task's metric: accuracy, f1 or mcc (two labels), pearson or spearman "
              "(default: accuracy, or pearson for a score)",
              "--task-metric");
  options.add("task.delimiter", "auto", "your own task: tab, comma, or auto (comma for .csv)");
  options.add("task.no_header", false, "your own task: the file's first line is a row, not names");
  options.add("data.train_file", "", "labelled training file (a GLUE task's own by default)");
  options.add("data.dev_file", "", "labelled dev file (a GLUE task's own by default)");
  options.add("data.skip_malformed", false,
              "leave out rows with the wrong number of fields or an unknown label, and count them");
  options.add("task.squad", false, "extractive QA on SQuAD v1.1 instead of a GLUE task", "--squad");
  options.add("task.from_scratch", false,
              "train the same architecture from its random initialization instead",
              "--from-scratch");
  options.add("data.glue_dir", "data/glue",
              "directory with <task>/train.tsv[.gz] and dev.tsv[.gz]");
  options.add("data.max_length", 128, "tokens per example, [CLS] and [SEP]s included");
  add_squad_options(options);
  add_trainer_options(options);
  add_data_parallel_options(options);
  add_distillation_options(options);
  add_pruning_options(options, /*with_target=*/true);
  options.set_defaults(pipeline::encoder_finetune_defaults());
  options.set_default("output", "runs/finetune");
}

void print_run(const train::TrainResult& result) {
  fmt::print("fine-tuned {} steps in {:.0f} s ({:.0f} input tokens/s), stopped by {}\n",
             result.steps, result.seconds, result.tokens_per_second, result.stop_reason);
}

// A user's task from the options naming its file's columns.
data::TextTask own_task(const core::Settings& s) {
  data::TextTask task;
  const std::string train_file = s.get_string("data.train_file");
  if (train_file.empty()) s.fail("data.train_file", "must name your task's labelled file");
  if (s.get_string("data.dev_file").empty())
    s.fail("data.dev_file", "must name your task's labelled dev file");
  task.text_columns = get_list(s, "task.text_columns");
  if (task.text_columns.empty() || task.text_columns.size() > 2)
    s.fail("task.text_columns", "must name one text column, or two for sentence pairs");
  task.label_column = s.get_string("task.label_column");
  if (task.label_column.empty()) s.fail("task.label_column", "must name the label column");
  task.labels = get_list(s, "task.labels");
  const bool regression = s.get_bool("task.regression");
  if (regression && !task.labels.empty())
    s.fail("task.labels", "cannot be combined with --regression");
  if (!regression && task.labels.size() < 2)
    s.fail("task.labels", "must list at least two class labels (or give --regression)");
  task.name = s.get_string("task.name");
  if (task.name.empty()) {
    task.name = fs::path(train_file).filename().string();
    task.name = task.name.substr(0, task.name.find('.'));
  }
  task.metric = s.get_string("task.metric");
  if (task.metric.empty()) task.metric = regression ? "pearson" : "accuracy";
  std::string delimiter = s.get_string("task.delimiter");
  if (delimiter == "auto")
    delimiter = train_file.find(".csv") != std::string::npos ? "comma" : "tab";
  if (delimiter != "tab" && delimiter != "comma")
    s.fail("task.delimiter", "must be tab, comma or auto");
  task.delimiter = delimiter == "comma" ? ',' : '\t';
  task.header = !s.get_bool("task.no_header");
  task.check("finetune");
  return task;
}

void finetune_glue(const core::Settings& s, const pipeline::TrainingRun& run) {
  pipeline::GlueData data;
  if (!s.get_string("task.glue").empty())
    data.task = data::glue_task(s.get_string("task.glue")).name;
  else
    data.custom = own_task(s);
  data.glue_dir = s.get_string("data.glue_dir");
  data.train_file = s.get_string("data.train_file");
  data.dev_file = s.get_string("data.dev_file");
  data.skip_malformed = s.get_bool("data.skip_malformed");
  data.max_length = s.get_int_at_least("data.max_length", 8);
  for (const char* key : {"data.train_file", "data.dev_file"})
    if (!s.get_string(key).empty() && !fs::is_regular_file(s.get_string(key)))
      s.fail(key, "must name a file");
  const auto outcome = pipeline::finetune_text_task(s.get_string("model"), data, run,
                                                    s.get_bool("task.from_scratch"));
  print_run(outcome.training);
  fmt::print("{} (dev, best checkpoint {})\n", outcome.summary, outcome.best.string());
}

void finetune_squad(const core::Settings& s, const pipeline::TrainingRun& run) {
  const auto outcome = pipeline::finetune_squad_task(s.get_string("model"), squad_run_options(s),
                                                     run, s.get_bool("task.from_scratch"));
  print_run(outcome.training);
  fmt::print("{} (best checkpoint {})\n", outcome.summary, outcome.best.string());
}

}  // namespace

void register_finetune(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "finetune", "fine-tune an encoder on a GLUE task, your own labelled file, or SQuAD");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  add_finetune_options(*options);
  cmd->callback([options, common] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    auto run = training_run(s, *common, "finetune");
    add_pruning_hook(s, run);
    const bool squad = s.get_bool("task.squad");
    const bool glue = !s.get_string("task.glue").empty();
    const bool own = !given_string(s, "task.text_columns").empty();
    if (squad && (glue || own)) s.fail("task.squad", "cannot be combined with a text task");
    if (glue && own) s.fail("task.text_columns", "cannot be combined with --glue (a preset)");
    if (!squad && !glue && !own)
      s.fail("task.glue",
             "must name a GLUE task, or give your file's columns (--text-columns, "
             "--label-column), or --squad");
    if (squad)
      finetune_squad(s, run);
    else
      finetune_glue(s, run);
  });
}

}  // namespace slimformer::tools
