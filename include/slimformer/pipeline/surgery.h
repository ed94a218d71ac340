// The load -> change -> save -> fine-tune -> measure pipeline of module surgery, for every family:
// prune-modules removes sublayers physically, rewind resets them to their initial parameters
// (Wang & Tu 2020); both fine-tune the changed model on its family's task and measure it side by
// side with the original (and, for rewinding, with the original trained for the same updates).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slimformer/pipeline/measure.h"
#include "slimformer/pipeline/training.h"

namespace slimformer::pipeline {

struct SurgeryRun {
  std::filesystem::path model_dir;  // the original checkpoint
  std::filesystem::path out;        // the run directory
  std::vector<std::string> paths;   // the sublayers to change
  bool resume = false;              // continue a run in `out` (models in place are kept)
  FinetuneData data;                // what fine-tuning trains on
  TrainingRun finetune;             // trainer options; output and budget are set per run
  MeasureOptions measure;           // the side-by-side measurement
  nlohmann::json record = nlohmann::json::object();  // command line, options
};

// Removes run.paths and saves <out>/pruned, fine-tunes it `finetune_steps` updates (0: no) into
// <out>/finetune, and measures original, pruned and fine-tuned side by side.
std::vector<MeasuredModel> prune_modules(const SurgeryRun& run, int64_t finetune_steps);

// Rewinds run.paths to their initial parameters and saves <out>/rewound, fine-tunes it `steps`
// updates into <out>/rewound-finetune and, with `control`, the original for the same updates
// into <out>/continued; measures them all side by side.
std::vector<MeasuredModel> rewind_modules(const SurgeryRun& run, int64_t steps, bool control);

// Fine-tunes `start_from` for `steps` updates into `out` (best, last, log) and saves the best as
// <out>/model without training state, stored like `start_from`; returns that directory.
std::filesystem::path finetune_to_model(const std::filesystem::path& start_from,
                                        const std::filesystem::path& out, int64_t steps,
                                        const FinetuneData& data, TrainingRun run);

// Whether the changed model in `dir` must be built: false when resuming finds it in place; a
// UserError naming `what` when an earlier run holds it and the run does not resume.
bool needs_changed_model(const SurgeryRun& run, const std::filesystem::path& dir,
                         const std::string& what);

// Saves a changed model atomically in the storage type of the checkpoint it came from.
void save_changed_model(const std::filesystem::path& dir, const train::LoadedModel& model,
                        const nlohmann::json& record);

// Writes <out>/results.json (`results` with the measurements added) and <out>/report.html
// (`description` above the table).
void write_measurement_report(const std::vector<MeasuredModel>& measured,
                              const std::filesystem::path& out, const std::string& title,
                              const std::string& description, nlohmann::json results);

}  // namespace slimformer::pipeline
