#include "slimformer/pipeline/importance_run.h"

#include <fstream>

#include "slimformer/core/files.h"
#include "slimformer/methods/importance/importance_io.h"
#include "slimformer/report/importance_report.h"
#include "slimformer/train/trainer.h"

namespace slimformer::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

methods::ImportanceResult run_importance(models::ModelTree& model, const core::TensorMap& init,
                                         eval::ModelEvaluator& evaluator,
                                         const ImportanceRunOptions& options, const fs::path& out,
                                         const json& record) {
  auto scoring = options.scoring;
  train::Collective* workers = scoring.workers.get();
  // Only the primary worker writes; the others end once their share is scored.
  const bool writes = !workers || workers->rank() == 0;
  // Every evaluation is logged as it happens, so a long run can be followed and inspected.
  std::ofstream log;
  auto write_evaluation = [&](const methods::Evaluation& e) {
    log << json({{"path", e.path},
                 {"action", e.action},
                 {"alpha", e.alpha},
                 {"value", e.value},
                 {"seconds", e.seconds}})
               .dump()
        << std::endl;
  };
  if (writes) {
    fs::create_directories(out);
    log.open(out / "evaluations.jsonl", std::ios::trunc);
    auto user_hook = scoring.on_evaluation;
    scoring.on_evaluation = [&, user_hook](const methods::Evaluation& e) {
      write_evaluation(e);
      if (user_hook) user_hook(e);
    };
  }
  auto progress = [&](const std::string& phase) -> methods::ImportanceCallback {
    if (!options.on_progress || !writes) return {};
    return [&, phase](const methods::ImportanceProgress& p) { options.on_progress(phase, p); };
  };
  auto result = methods::score_importance(model, init, evaluator, scoring, progress("scores"));
  for (const char* by : {methods::kContribution, methods::kCriticality}) {
    const bool scored = by == methods::kContribution ? scoring.contribution : scoring.criticality;
    if (options.curve_max_k == 0 || !scored) continue;
    const int64_t k = std::min<int64_t>(options.curve_max_k, result.sublayers.size());
    result.removal_curves[by] = methods::removal_curve(
        model, evaluator, methods::least_important(result, by, k), k,
        progress(std::string("curve ") + by), scoring.stop_requested, workers);
  }
  if (!writes) throw train::SecondaryWorkerDone();
  if (workers) {
    // The log as it grew holds this worker's evaluations; the whole run's replace it.
    log.close();
    log.open(out / "evaluations.jsonl", std::ios::trunc);
    for (const auto& e : result.evaluations) write_evaluation(e);
  }

  json results = methods::importance_to_json(result);
  results.update(record);
  core::write_text_atomically(out / "results.json", results.dump(2) + "\n");
  methods::write_importance_csv(out, result);
  report::write_importance_report(result, out);
  return result;
}

}  // namespace slimformer::pipeline
