#include "slimformer/pipeline/linearize.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

namespace slimformer::pipeline {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Trains only `patterns` (the attention-only option), on top of the run's own groups.
TrainingRun training_only(TrainingRun run, const std::vector<std::string>& patterns) {
  run.train.parameter_groups.push_back({patterns, 1.0, /*frozen=*/false});
  run.train.freeze_unmatched = true;
  return run;
}

}  // namespace

LinearizeOutcome linearize_model(const SurgeryRun& run, const LinearizeRunOptions& options) {
  options.conversion.check();
  LinearizeOutcome outcome;
  const fs::path converted = run.out / "linearized";
  {
    auto model = train::load_model(run.model_dir, torch::kCPU);
    // Chosen again on resume too: the paths decide what attention-only fine-tuning trains.
    outcome.converted = methods::attention_sublayers_to_linearize(*model.model, options.conversion);
    if (needs_changed_model(run, converted, "a linearized model")) {
      methods::linearize(*model.model, options.conversion);
      spdlog::info("{} -> linear attention ({}, {} features per head)",
                   fmt::join(outcome.converted, ", "), options.conversion.feature_map,
                   options.conversion.feature_dim);
      json record = run.record;
      record["linearized_from"] = run.model_dir.string();
      record["linearized"] = {{"sublayers", outcome.converted},
                              {"feature_map", options.conversion.feature_map},
                              {"feature_dim", options.conversion.feature_dim},
                              {"seed", options.conversion.seed}};
      // Its initial parameters are the converted model's own: rewinding a converted model
      // returns to the conversion, which has no other init.
      model.init.clear();
      model.init_from_seed = false;
      save_changed_model(converted, model, record);
    }
  }
  outcome.model = converted;
  std::vector<NamedModel> models = {{"softmax (original)", run.model_dir},
                                    {"linear, converted", converted}};
  if (options.finetune_steps > 0) {
    const std::string budget = fmt::format("{} updates", options.finetune_steps);
    // Attention-only trains the converted sublayers' projections and maps; the control trains
    // the same sublayers' projections of the softmax model (it has no maps).
    TrainingRun finetune = run.finetune;
    if (options.attention_only)
      finetune = training_only(finetune, methods::attention_only_parameters(outcome.converted));
    outcome.model = finetune_to_model(converted, run.out / "finetune", options.finetune_steps,
                                      run.data, finetune);
    models.push_back({"linear + " + budget, outcome.model});
    if (options.control)
      models.push_back({"softmax + " + budget,
                        finetune_to_model(run.model_dir, run.out / "continued",
                                          options.finetune_steps, run.data, finetune)});
  }
  outcome.measured = measure_models(models, run.measure);
  return outcome;
}

}  // namespace slimformer::pipeline
