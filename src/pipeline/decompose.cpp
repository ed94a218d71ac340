#include "slimformer/pipeline/decompose.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "slimformer/methods/decompose/decompose.h"
#include "slimformer/pipeline/evaluation.h"

namespace slimformer::pipeline {

namespace fs = std::filesystem;
using json = nlohmann::json;

DecomposeOutcome decompose_model(const SurgeryRun& run, const DecomposeRunOptions& options) {
  DecomposeOutcome outcome;
  const fs::path decomposed = run.out / "decomposed";
  std::vector<std::string> upper_taps;
  {
    auto model = train::load_model(run.model_dir, torch::kCPU);
    upper_taps = methods::upper_layer_taps(model.model->config(), options.k);
    const auto recorded = recorded_text_task(model.record);
    methods::check_decomposable(model.model->config(), options.k,
                                recorded.task ? &*recorded.task : nullptr, run.model_dir.string());
    if (needs_changed_model(run, decomposed, "a decomposed model")) {
      model.as<models::EncoderModelImpl>()->set_separate_layers(options.k);
      spdlog::info("layers below {} of {} now run on each segment alone", options.k,
                   model.model->config().encoder_layers);
      json record = run.record;
      record["decomposed_from"] = run.model_dir.string();
      record["decomposed"] = {{"k", options.k}};
      save_changed_model(decomposed, model, record);
    }
  }
  outcome.model = decomposed;
  std::vector<NamedModel> models = {{"original", run.model_dir},
                                    {fmt::format("decomposed k={}", options.k), decomposed}};
  if (options.finetune_steps > 0) {
    const std::string budget = fmt::format("{} updates", options.finetune_steps);
    if (options.control)
      models.push_back({"k=" + std::to_string(options.k) + ", task loss, " + budget,
                        finetune_to_model(decomposed, run.out / "task-only", options.finetune_steps,
                                          run.data, run.finetune)});
    // The original is the teacher: its logits and its upper layers' states.
    train::DistillationOptions d;
    d.temperature = options.temperature;
    d.task_weight = options.task_weight;
    d.logit_weight = options.distill_weight;
    d.taps = upper_taps;
    d.tap_weight = d.taps.empty() ? 0.0 : options.similarity_weight / double(d.taps.size());
    TrainingRun distilled = run.finetune;
    distilled.teacher = std::make_shared<train::Teacher>(
        train::load_model(run.model_dir, run.finetune.device).model, d);
    outcome.model = finetune_to_model(decomposed, run.out / "finetune", options.finetune_steps,
                                      run.data, distilled);
    models.push_back({"k=" + std::to_string(options.k) + ", + distillation + similarity, " + budget,
                      outcome.model});
  }
  outcome.measured = measure_models(models, run.measure);
  return outcome;
}

}  // namespace slimformer::pipeline
