#include "slimformer/pipeline/surgery.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/methods/surgery/module_surgery.h"
#include "slimformer/report/html_report.h"

namespace slimformer::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<MeasuredModel> measure(const std::vector<NamedModel>& models, const SurgeryRun& run) {
  return measure_models(models, run.measure);
}

}  // namespace

bool needs_changed_model(const SurgeryRun& run, const fs::path& dir, const std::string& what) {
  if (!run.resume && fs::exists(dir))
    throw core::UserError(
        fmt::format("--output {} already holds {}; choose another --output (or --resume)",
                    run.out.string(), what));
  return !run.resume || !fs::exists(dir);
}

void save_changed_model(const fs::path& dir, const train::LoadedModel& model, const json& record) {
  train::save_model(dir, model, record, model.stored_dtype);
}

fs::path finetune_to_model(const fs::path& start_from, const fs::path& out, int64_t steps,
                           const FinetuneData& data, TrainingRun run) {
  run.train.output_dir = out;
  run.train.max_steps = steps;
  run.train.schedule.total_steps = steps;
  finetune_checkpoint(start_from, data, run);
  // The deliverable: the best checkpoint without training state, stored like the original.
  auto best = train::load_model(out / "best", torch::kCPU);
  best.stored_dtype = train::stored_dtype(start_from);
  save_changed_model(out / "model", best, {{"finetuned_from", start_from.string()}});
  return out / "model";
}

std::vector<MeasuredModel> prune_modules(const SurgeryRun& run, int64_t finetune_steps) {
  const fs::path pruned = run.out / "pruned";
  if (needs_changed_model(run, pruned, "a pruned model")) {
    auto model = train::load_model(run.model_dir, torch::kCPU);
    const int64_t before = model.model->num_parameters();
    methods::remove_sublayers(*model.model, run.paths);
    spdlog::info("removed {}: {} -> {} parameters", fmt::join(run.paths, ", "), before,
                 model.model->num_parameters());
    json record = run.record;
    record["pruned_from"] = run.model_dir.string();
    save_changed_model(pruned, model, record);
  }
  std::vector<NamedModel> models = {{"original", run.model_dir}, {"pruned", pruned}};
  if (finetune_steps > 0)
    models.push_back(
        {fmt::format("pruned + {} updates", finetune_steps),
         finetune_to_model(pruned, run.out / "finetune", finetune_steps, run.data, run.finetune)});
  return measure(models, run);
}

std::vector<MeasuredModel> rewind_modules(const SurgeryRun& run, int64_t steps, bool control) {
  const fs::path rewound = run.out / "rewound";
  if (needs_changed_model(run, rewound, "a rewound model")) {
    auto model = train::load_model(run.model_dir, torch::kCPU);
    if (model.init.empty())
      throw core::UserError(fmt::format(
          "{} has no initial parameters (init.safetensors or an init_seed record) to rewind to",
          run.model_dir.string()));
    methods::rewind_sublayers(*model.model, model.init, run.paths);
    spdlog::info("rewound {} to their initial parameters", fmt::join(run.paths, ", "));
    json record = run.record;
    record["rewound_from"] = run.model_dir.string();
    record["rewound_sublayers"] = run.paths;
    save_changed_model(rewound, model, record);
  }
  std::vector<NamedModel> models = {{"original", run.model_dir}, {"rewound", rewound}};
  models.push_back(
      {fmt::format("rewound + {} updates", steps),
       finetune_to_model(rewound, run.out / "rewound-finetune", steps, run.data, run.finetune)});
  if (control)
    models.push_back(
        {fmt::format("original + {} updates", steps),
         finetune_to_model(run.model_dir, run.out / "continued", steps, run.data, run.finetune)});
  return measure(models, run);
}

void write_measurement_report(const std::vector<MeasuredModel>& measured, const fs::path& out,
                              const std::string& title, const std::string& description,
                              json results) {
  results["models"] = measurements_json(measured);
  core::write_text_atomically(out / "results.json", results.dump(2) + "\n");
  report::HtmlReport html(title);
  html.paragraph(description);
  html.table(measurement_header(measured), measurement_rows(measured));
  html.save(out / "report.html");
}

}  // namespace slimformer::pipeline
