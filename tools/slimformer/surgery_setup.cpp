#include "surgery_setup.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "command_line.h"
#include "progress.h"
#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/core/runtime.h"
#include "slimformer/data/parallel_corpus.h"
#include "slimformer/eval/bleu.h"
#include "slimformer/eval/chrf.h"
#include "slimformer/eval/decoding.h"
#include "slimformer/methods/importance/importance_io.h"
#include "slimformer/report/html_report.h"
#include "translation_setup.h"

namespace slimformer::tools {

namespace fs = std::filesystem;
using nlohmann::json;

void add_sublayer_choice_options(CommandOptions& options, const std::string& section,
                                 int64_t default_k) {
  options.add(section + ".importance", "",
              "importance results (results.json or its run directory) that rank the sublayers");
  options.add(section + ".by", "contribution", "rank by contribution or criticality");
  options.add(section + ".k", default_k, "how many of the least important sublayers");
  options.add(section + ".paths", "", "these sublayers instead (comma-separated paths)");
}

std::vector<std::string> chosen_sublayers(const core::Settings& s, const std::string& section) {
  auto paths = get_list(s, section + ".paths");
  if (!paths.empty()) return paths;
  const std::string importance = s.get_string(section + ".importance");
  if (importance.empty())
    throw core::UserError(
        "--importance must name importance results (or give --paths); run slimformer "
        "importance first");
  const std::string by = s.get_choice(section + ".by", {"contribution", "criticality"});
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
  options.set_default("train.schedule", "constant");
  options.set_default("train.lr", 3e-4);
  options.set_default("train.warmup_steps", 0);
  options.set_default("train.clip_norm", 1.0);
  options.set_default("train.validate_every", 100);
  options.set_default("train.bleu_samples", 300);
}

fs::path finetune(const core::Settings& settings, const CommonOptions& common,
                  const fs::path& start_from, const fs::path& out, int64_t steps) {
  core::Settings s = settings;
  s.set("output", out.string(), "fine-tuning");
  s.set("train.max_steps", steps, "fine-tuning");
  // --resume continues the fine-tuning runs that have started; the others start afresh.
  if (s.get_bool("resume") && !fs::exists(out / "last")) s.set("resume", false, "fine-tuning");
  spdlog::info("fine-tuning {} for {} updates into {}", start_from.string(), steps, out.string());
  run_translation_training(s, common, command_line(), start_from);
  // The deliverable: the best checkpoint without training state, stored like the original.
  auto best = train::load_seq2seq(out / "best", torch::kCPU);
  save_changed_checkpoint(out / "model", best, start_from, {{"finetuned_by", command_line()}});
  return out / "model";
}

void save_changed_checkpoint(const fs::path& dir, train::Seq2SeqCheckpoint& ckpt,
                             const fs::path& source_dir, const json& record) {
  const auto stored = core::load_safetensors(source_dir / train::kModelFile);
  const auto dtype = stored.empty() ? torch::kFloat32 : stored.begin()->second.scalar_type();
  json full = ckpt.record.is_object() ? ckpt.record : json::object();
  full.update(record);
  // A seeded init stays regenerable (removal does not change the surviving initial values), so
  // it is recorded rather than stored, as in the original.
  const bool seeded =
      ckpt.init_from_seed || train::init_matches_seed(ckpt.init, ckpt.model->config());
  const core::TensorMap no_init;
  if (seeded) full["init"] = train::kInitFromSeed;
  core::write_directory_atomically(dir, [&](const fs::path& tmp) {
    train::write_model_files(tmp, *ckpt.model, seeded ? no_init : ckpt.init, ckpt.vocab, full,
                             dtype);
  });
}

bool needs_changed_model(const core::Settings& s, const fs::path& dir, const std::string& what) {
  const bool resume = s.get_bool("resume");
  if (!resume && fs::exists(dir))
    throw core::UserError(
        fmt::format("--output {} already holds {}; choose another --output (or --resume)",
                    dir.parent_path().string(), what));
  return !resume || !fs::exists(dir);
}

void add_test_options(CommandOptions& options) {
  options.add("eval.test_src", "data/multi30k/test_2016_flickr.en.gz", "test source text");
  options.add("eval.test_ref", "data/multi30k/test_2016_flickr.de.gz", "test references");
  options.add("eval.beam", 1, "beam size for the test translations (1: greedy)", "--test-beam");
  options.add("eval.repeats", 2, "timing rounds over all models (the fastest is kept)");
}

std::vector<MeasuredModel> measure_models(
    const std::vector<std::pair<std::string, fs::path>>& models, const core::Settings& s,
    const torch::Device& device) {
  auto test = data::read_parallel(s.get_string("eval.test_src"), s.get_string("eval.test_ref"));
  const auto& sources = test.source;
  const auto& refs = test.target;
  eval::DecodeOptions decode;
  decode.beam_size = s.get_int_at_least("eval.beam", 1);
  const int64_t repeats = s.get_int_at_least("eval.repeats", 1);

  std::vector<train::Seq2SeqCheckpoint> checkpoints;
  std::vector<MeasuredModel> measured;
  for (const auto& [name, dir] : models) {
    checkpoints.push_back(train::load_seq2seq(dir, device));
    MeasuredModel m;
    m.name = name, m.dir = dir;
    m.parameters = checkpoints.back().model->num_parameters();
    m.removed = checkpoints.back().model->config().removed_sublayers;
    m.disk_mb = core::directory_bytes(dir) / 1e6;
    m.seconds = INFINITY;
    measured.push_back(m);
  }
  ProgressBar bar("test");
  const int64_t total = repeats * int64_t(models.size());
  for (int64_t round = 0; round < repeats; ++round) {
    for (size_t i = 0; i < models.size(); ++i) {
      bar.update(round * models.size() + i, total, measured[i].name);
      auto start = std::chrono::steady_clock::now();
      auto hyps =
          eval::translate(*checkpoints[i].model, checkpoints[i].vocab, sources, decode, device);
      measured[i].seconds =
          std::min(measured[i].seconds,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      if (round == 0) {
        measured[i].bleu = eval::corpus_bleu(hyps, {refs}).score;
        measured[i].chrf = eval::corpus_chrf(hyps, refs).score;
      }
    }
  }
  bar.update(total, total);
  bar.finish();
  return measured;
}

json measurements_json(const std::vector<MeasuredModel>& measured) {
  json out = json::array();
  for (const auto& m : measured)
    out.push_back({{"name", m.name},
                   {"dir", m.dir.string()},
                   {"parameters", m.parameters},
                   {"removed_sublayers", m.removed},
                   {"disk_mb", m.disk_mb},
                   {"bleu", m.bleu},
                   {"chrf", m.chrf},
                   {"decode_seconds", m.seconds},
                   {"speedup", measured.front().seconds / m.seconds}});
  return out;
}

std::vector<std::string> measurement_header() {
  return {"model", "parameters", "MB on disk", "BLEU", "chrF2", "decode s", "speed-up"};
}

std::vector<std::vector<std::string>> measurement_rows(const std::vector<MeasuredModel>& measured) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : measured)
    rows.push_back({m.name, fmt::format("{}", m.parameters), fmt::format("{:.1f}", m.disk_mb),
                    fmt::format("{:.2f}", m.bleu), fmt::format("{:.2f}", m.chrf),
                    fmt::format("{:.2f}", m.seconds),
                    fmt::format("{:.2f}x", measured.front().seconds / m.seconds)});
  return rows;
}

void print_measurements(const std::vector<MeasuredModel>& measured) {
  const auto header = measurement_header();
  fmt::print("{:<26} {:>11} {:>10} {:>7} {:>7} {:>9} {:>9}\n", header[0], header[1], header[2],
             header[3], header[4], header[5], header[6]);
  for (const auto& r : measurement_rows(measured))
    fmt::print("{:<26} {:>11} {:>10} {:>7} {:>7} {:>9} {:>9}\n", r[0], r[1], r[2], r[3], r[4], r[5],
               r[6]);
}

void measure_and_report(const std::vector<std::pair<std::string, fs::path>>& models,
                        const core::Settings& s, const torch::Device& device, const fs::path& out,
                        const std::string& title, const std::string& description, json results) {
  auto measured = measure_models(models, s, device);
  print_measurements(measured);
  results["models"] = measurements_json(measured);
  results["command"] = command_line();
  results["options"] = s.to_nested_json();
  core::write_text_atomically(out / "results.json", results.dump(2) + "\n");
  report::HtmlReport html(title);
  html.paragraph(
      fmt::format("{} Test set {}, beam {}; decoding time is the fastest of {} "
                  "alternating rounds.",
                  description, s.get_string("eval.test_src"), s.get_int("eval.beam"),
                  s.get_int("eval.repeats")));
  html.table(measurement_header(), measurement_rows(measured));
  html.save(out / "report.html");
  fmt::print("wrote {0}/results.json and {0}/report.html\n", out.string());
}

}  // namespace slimformer::tools
