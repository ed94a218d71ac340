// The options of the module-surgery commands (prune-modules, rewind, quickstart) and their
// conversion to the pipeline's structs: the sublayer choice, the test data of the side-by-side
// measurement, what fine-tuning trains on, and the printed table.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "options.h"
#include "slimformer/pipeline/surgery.h"

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

// The training options with fine-tuning defaults (constant learning rate, short budget), and
// the data fine-tuning reads for each family.
void add_finetune_options(CommandOptions& options);

// eval.test_src, eval.test_ref, eval.test_text, eval.test_context, eval.beam, eval.repeats
void add_test_options(CommandOptions& options);

// The measurement the eval.* options describe for a model of `config`'s family.
pipeline::MeasureOptions measure_options(const core::Settings& settings,
                                         const models::TransformerConfig& config,
                                         const torch::Device& device);
// What fine-tuning of the model in `model_dir` trains on, per the data.* options (an encoder on
// the task it records).
pipeline::FinetuneData finetune_data(const core::Settings& settings,
                                     const std::filesystem::path& model_dir);

// A surgery run of the model in settings' `model` on the sublayers chosen under `section`.
pipeline::SurgeryRun surgery_run(const core::Settings& settings, const CommonOptions& common,
                                 const std::string& section);
// The same for a command that chooses no sublayers (run.paths stays empty).
pipeline::SurgeryRun surgery_run_without_choice(const core::Settings& settings,
                                                const CommonOptions& common);

// "test set X, beam 1; times are the fastest of 2 alternating rounds.", for reports.
std::string measurement_description(const pipeline::MeasureOptions& options);

// Prints the side-by-side table.
void print_measurements(const std::vector<pipeline::MeasuredModel>& measured);

}  // namespace slimformer::tools
