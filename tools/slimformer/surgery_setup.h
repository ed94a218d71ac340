// What the module-surgery commands (prune-modules, rewind, quickstart) share: choosing the
// sublayers, saving a changed model, fine-tuning it, and measuring models side by side on a
// test set (BLEU, chrF, decoding time, parameters, size on disk).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "options.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

// <section>.importance, <section>.by, <section>.k, <section>.paths
void add_sublayer_choice_options(CommandOptions& options, const std::string& section,
                                 int64_t default_k);
// The named paths, or the k least important by the importance results; a UserError if neither.
std::vector<std::string> chosen_sublayers(const core::Settings& settings,
                                          const std::string& section);

// What prune-modules and rewind both take: the model, the sublayer choice under `section`, the
// test set, the fine-tuning options, and --output defaulting to `default_output`.
void add_surgery_options(CommandOptions& options, const std::string& section,
                         const std::string& default_output);

// The training options with fine-tuning defaults (constant learning rate, short budget).
void add_finetune_options(CommandOptions& options);
// Fine-tunes the checkpoint `start_from` for `steps` updates into `out` (best, last, log) and
// saves the best as `out`/model, stored like `start_from`; returns that directory.
std::filesystem::path finetune(const core::Settings& settings, const CommonOptions& common,
                               const std::filesystem::path& start_from,
                               const std::filesystem::path& out, int64_t steps);

// Saves a checkpoint atomically in the storage type of the checkpoint it came from.
void save_changed_checkpoint(const std::filesystem::path& dir, train::Seq2SeqCheckpoint& ckpt,
                             const std::filesystem::path& source_dir, const nlohmann::json& record);

// Whether the changed model in `dir` must be built: false when --resume finds it in place; a
// UserError naming `what` when an earlier run holds it and --resume was not given.
bool needs_changed_model(const core::Settings& settings, const std::filesystem::path& dir,
                         const std::string& what);

// eval.test_src, eval.test_ref, eval.beam, eval.repeats
void add_test_options(CommandOptions& options);

struct MeasuredModel {
  std::string name;
  std::filesystem::path dir;
  int64_t parameters = 0;
  std::vector<std::string> removed;
  double disk_mb = 0, bleu = 0, chrf = 0, seconds = 0;
};
// Translates the test set with every model; decoding is timed in alternation, `repeats` rounds,
// keeping each model's fastest, so that all see the same machine conditions.
std::vector<MeasuredModel> measure_models(
    const std::vector<std::pair<std::string, std::filesystem::path>>& models,
    const core::Settings& settings, const torch::Device& device);

nlohmann::json measurements_json(const std::vector<MeasuredModel>& measured);
// Header and rows of the side-by-side table; speed-up relative to the first model.
std::vector<std::string> measurement_header();
std::vector<std::vector<std::string>> measurement_rows(const std::vector<MeasuredModel>& measured);
void print_measurements(const std::vector<MeasuredModel>& measured);

// Measures `models` side by side, prints the table, and writes results.json (`results` with the
// measurements, command and options added) and report.html (`description` above the table).
void measure_and_report(const std::vector<std::pair<std::string, std::filesystem::path>>& models,
                        const core::Settings& settings, const torch::Device& device,
                        const std::filesystem::path& out, const std::string& title,
                        const std::string& description, nlohmann::json results);

}  // namespace slimformer::tools
