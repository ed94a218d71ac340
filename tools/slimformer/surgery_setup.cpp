#include "surgery_setup.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>

#include "command_line.h"
#include "commands.h"
#include "language_model_setup.h"
#include "slimformer/core/error.h"
#include "slimformer/core/runtime.h"
#include "slimformer/methods/importance/importance_io.h"
#include "slimformer/methods/surgery/module_surgery.h"
#include "slimformer/pipeline/progress_reports.h"
#include "slimformer/pipeline/training_defaults.h"
#include "translation_setup.h"

namespace slimformer::tools {

namespace fs = std::filesystem;

void add_sublayer_choice_options(CommandOptions& options, const std::string& section,
                                 int64_t default_k) {
  options.add(section + ".importance", "",
              "importance results (results.json or its run directory) that rank the sublayers");
  options.add(section + ".by", "contribution",
              "rank by contribution or criticality, or choose at random (the control)");
  options.add(section + ".choice_seed", 1, "seed of the random choice (--by random)");
  options.add(section + ".k", default_k, "how many of the least important sublayers");
  options.add(section + ".paths", "", "these sublayers instead (comma-separated paths)");
}

std::vector<std::string> chosen_sublayers(const core::Settings& s, const std::string& section) {
  auto paths = get_list(s, section + ".paths");
  if (!paths.empty()) return paths;
  const std::string by = s.get_choice(section + ".by", {"contribution", "criticality", "random"});
  if (by == "random") {
    auto model = train::load_model(s.get_string("model"), torch::kCPU);
    return methods::random_sublayers(*model.model, s.get_int_at_least(section + ".k", 1),
                                     static_cast<uint64_t>(s.get_int(section + ".choice_seed")));
  }
  const std::string importance = s.get_string(section + ".importance");
  if (importance.empty())
    throw core::UserError(
        "--importance must name importance results (or give --paths); run slimformer "
        "importance first");
  return methods::least_important(methods::load_importance(importance), by,
                                  s.get_int_at_least(section + ".k", 1));
}

void add_surgery_options(CommandOptions& options, const std::string& section,
                         const std::string& default_output) {
  options.add_positional("model", "model", "checkpoint directory");
  add_sublayer_choice_options(options, section, 2);
  add_test_options(options);
  add_finetune_options(options);
  options.set_default("output", default_output);
}

void add_finetune_options(CommandOptions& options) {
  add_translation_train_options(options, /*new_model=*/false);
  add_language_model_data_options(options);
  options.add("data.glue_dir", "data/glue",
              "encoders: directory with <task>/train.tsv[.gz] and dev.tsv[.gz]");
  options.set_defaults(pipeline::model_change_finetune_defaults());
}

void add_test_options(CommandOptions& options) {
  options.add("eval.test_src", "", "translation: test source text (default: Multi30k test2016)");
  options.add("eval.test_ref", "", "translation: test references");
  options.add("eval.test_text", "", "language models: test text, scored by perplexity");
  options.add("eval.test_context", 0,
              "language models: tokens per scoring window (0: the model's)");
  options.add("eval.beam", 1, "translation: beam size for the test translations (1: greedy)",
              "--test-beam");
  options.add("eval.repeats", 2, "timing rounds over all models (the fastest is kept)");
}

pipeline::MeasureOptions measure_options(const core::Settings& s,
                                         const models::TransformerConfig& config,
                                         const torch::Device& device) {
  pipeline::MeasureOptions o;
  auto& e = o.evaluation;
  e.device = device;
  e.source = given_string(s, "eval.test_src");
  e.reference = given_string(s, "eval.test_ref");
  e.text = given_string(s, "eval.test_text");
  e.context = s.get_int_at_least("eval.test_context", 0);
  e.beam = s.get_int_at_least("eval.beam", 1);
  pipeline::use_bundled_data(e, config, pipeline::DataSplit::kTest);
  o.repeats = s.get_int_at_least("eval.repeats", 1);
  o.on_progress = pipeline::measurement_progress("test");
  return o;
}

pipeline::FinetuneData finetune_data(const core::Settings& s, const fs::path& model_dir) {
  pipeline::FinetuneData d;
  d.translation.train_src = s.get_string("data.train_src");
  d.translation.train_tgt = s.get_string("data.train_tgt");
  d.translation.valid_src = s.get_string("data.valid_src");
  d.translation.valid_tgt = s.get_string("data.valid_tgt");
  d.translation.max_length = s.get_int_at_least("data.max_length", 2);
  d.translation.bleu_samples = s.get_int_at_least("train.bleu_samples", 0);
  d.language_model.train_text = s.get_string("data.train_text");
  d.language_model.valid_text = s.get_string("data.valid_text");
  d.language_model.context = s.get_int_at_least("data.context", 2);
  d.glue.glue_dir = s.get_string("data.glue_dir");
  d.glue.max_length = s.get_int_at_least("data.max_length", 8);
  const auto config = models::TransformerConfig::load((model_dir / "config.json").string());
  d.squad = pipeline::squad_options_of_run(train::read_record(model_dir), config,
                                           (model_dir / train::kRecordFile).string());
  return d;
}

pipeline::SurgeryRun surgery_run(const core::Settings& s, const CommonOptions& common,
                                 const std::string& section) {
  auto run = surgery_run_without_choice(s, common);
  run.paths = chosen_sublayers(s, section);
  return run;
}

pipeline::SurgeryRun surgery_run_without_choice(const core::Settings& s,
                                                const CommonOptions& common) {
  const auto device = core::parse_device(common.device);
  pipeline::SurgeryRun run;
  run.model_dir = s.get_string("model");
  run.out = s.get_string("output");
  run.resume = s.get_bool("resume");
  run.data = finetune_data(s, run.model_dir);
  run.finetune = training_run(s, common, "fine-tune");
  const auto config = models::TransformerConfig::load((run.model_dir / "config.json").string());
  run.measure = measure_options(s, config, device);
  run.record = {{"command", command_line()}};
  return run;
}

std::string measurement_description(const pipeline::MeasureOptions& o) {
  const auto& e = o.evaluation;
  std::string data = !e.source.empty() ? fmt::format("test set {}, beam {}", e.source, e.beam)
                     : !e.text.empty() ? fmt::format("test text {}", e.text)
                                       : std::string("the evaluation set the model records");
  return fmt::format("{}; times are the fastest of {} alternating rounds.", data, o.repeats);
}

void print_measurements(const std::vector<pipeline::MeasuredModel>& measured) {
  const auto header = pipeline::measurement_header(measured);
  auto rows = pipeline::measurement_rows(measured);
  rows.insert(rows.begin(), header);
  std::vector<size_t> width(header.size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : rows) {
    std::string line = fmt::format("{:<{}}", row[0], std::max<size_t>(width[0], 26));
    for (size_t i = 1; i < row.size(); ++i) line += fmt::format(" {:>{}}", row[i], width[i]);
    fmt::print("{}\n", line);
  }
}

}  // namespace slimformer::tools
