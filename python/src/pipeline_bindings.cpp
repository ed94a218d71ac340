// The pipeline's calls for Python: the side-by-side measurement and comparison, fine-tuning, and
// each method's run (module pruning, rewinding, importance, sparsify, linearize, decompose, the
// FFN search). They take the option structs of option_bindings.cpp, report progress on stderr
// as the program does, run without the GIL, and return their results as dicts and lists.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <fstream>

#include "bindings.h"
#include "python_json.h"
#include "slimformer/core/error.h"
#include "slimformer/pipeline/compare.h"
#include "slimformer/pipeline/decompose.h"
#include "slimformer/pipeline/encoder_finetune.h"
#include "slimformer/pipeline/importance_run.h"
#include "slimformer/pipeline/linearize.h"
#include "slimformer/pipeline/progress_reports.h"
#include "slimformer/pipeline/search.h"
#include "slimformer/pipeline/sparsify.h"
#include "slimformer/pipeline/training_defaults.h"

namespace py = pybind11;
namespace fs = std::filesystem;

namespace slimformer::python {

namespace {

using pipeline::NamedModel;

nlohmann::json run_record(const std::string& call) {
  return {{"command", "slimformer." + call + " (Python)"}};
}

models::TransformerConfig config_of(const fs::path& model_dir) {
  return models::TransformerConfig::load((model_dir / "config.json").string());
}

// What the program fills in from a model before running: the bundled test data of its family
// where the options name none (and, in completed, the SQuAD split a span encoder was
// fine-tuned with), progress on stderr.
void complete_measurement(pipeline::MeasureOptions& options,
                          const models::TransformerConfig& config, const std::string& label) {
  pipeline::use_bundled_data(options.evaluation, config, pipeline::DataSplit::kTest);
  options.on_progress = pipeline::measurement_progress(label);
}

pipeline::SurgeryRun completed(pipeline::SurgeryRun run, const std::string& call) {
  if (run.model_dir.empty()) throw core::UserError(call + ": model_dir must name a checkpoint");
  const auto config = config_of(run.model_dir);
  complete_measurement(run.measure, config, "test");
  run.data.squad = pipeline::squad_options_of_run(train::read_record(run.model_dir), config);
  run.finetune.callbacks = pipeline::training_progress("fine-tune");
  run.record = run_record(call);
  return run;
}

pipeline::TrainingRun with_progress(pipeline::TrainingRun run, const std::string& call,
                                    const std::string& label) {
  run.callbacks = pipeline::training_progress(label);
  run.record = run_record(call);
  return run;
}

nlohmann::json train_result_json(const train::TrainResult& r) {
  return {{"steps", r.steps},
          {"best", r.best},
          {"seconds", r.seconds},
          {"tokens_per_second", r.tokens_per_second},
          {"stop_reason", r.stop_reason},
          {"skipped_updates", r.skipped_updates}};
}

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw core::UserError(file.string() + ": cannot read");
  return nlohmann::json::parse(in);
}

// Runs `work` without the GIL and hands its JSON result to Python.
template <typename Work>
py::object unlocked(Work work) {
  nlohmann::json result;
  {
    py::gil_scoped_release release;
    result = work();
  }
  return to_python(result);
}

py::object measure(const std::vector<NamedModel>& models, pipeline::MeasureOptions options) {
  if (models.empty()) throw core::UserError("measure: give at least one model");
  complete_measurement(options, config_of(models.front().second), "measure");
  return unlocked(
      [&] { return pipeline::measurements_json(pipeline::measure_models(models, options)); });
}

py::object compare(const std::vector<NamedModel>& models, pipeline::CompareOptions options,
                   const fs::path& out) {
  if (models.empty()) throw core::UserError("compare: give at least one model");
  complete_measurement(options.measure, config_of(models.front().second), "compare");
  if (options.measure.latency_examples <= 0) options.measure.latency_examples = 20;
  return unlocked([&] {
    const auto comparison = pipeline::compare_models(models, options);
    if (!out.empty()) pipeline::write_comparison(comparison, out, run_record("compare"));
    return pipeline::comparison_json(comparison);
  });
}

py::object finetune(const fs::path& start_from, const pipeline::FinetuneData& data,
                    const pipeline::TrainingRun& run) {
  const auto training = with_progress(run, "finetune", "finetune");
  return unlocked([&] {
    const auto result = pipeline::finetune_checkpoint(start_from, data, training);
    return nlohmann::json{{"training", train_result_json(result)},
                          {"best", (training.train.output_dir / "best").string()}};
  });
}

nlohmann::json encoder_outcome_json(const pipeline::EncoderFinetuneOutcome& o) {
  return {{"training", train_result_json(o.training)},
          {"best", o.best.string()},
          {"summary", o.summary},
          {"metrics", o.metrics}};
}

py::object finetune_text_task(const fs::path& encoder, const pipeline::GlueData& data,
                              const pipeline::TrainingRun& run, bool from_scratch) {
  const auto training = with_progress(run, "finetune_text_task", "finetune");
  return unlocked([&] {
    return encoder_outcome_json(
        pipeline::finetune_text_task(encoder, data, training, from_scratch));
  });
}

py::object finetune_squad(const fs::path& encoder, const pipeline::SquadRunOptions& data,
                          const pipeline::TrainingRun& run, bool from_scratch) {
  const auto training = with_progress(run, "finetune_squad", "finetune");
  return unlocked([&] {
    return encoder_outcome_json(
        pipeline::finetune_squad_task(encoder, data, training, from_scratch));
  });
}

py::object prune_modules(const pipeline::SurgeryRun& run, int64_t finetune_steps) {
  const auto full = completed(run, "prune_modules");
  return unlocked(
      [&] { return pipeline::measurements_json(pipeline::prune_modules(full, finetune_steps)); });
}

py::object rewind(const pipeline::SurgeryRun& run, int64_t steps, bool control) {
  const auto full = completed(run, "rewind");
  return unlocked(
      [&] { return pipeline::measurements_json(pipeline::rewind_modules(full, steps, control)); });
}

py::object sparsify(const pipeline::SurgeryRun& run, const pipeline::SparsifyOptions& options) {
  options.check();
  const auto full = completed(run, "sparsify");
  return unlocked([&] {
    const auto outcome = pipeline::sparsify(full, options);
    auto results = pipeline::sparsify_results(outcome);
    results["measured"] = pipeline::measurements_json(outcome.measured);
    return results;
  });
}

py::object linearize(const pipeline::SurgeryRun& run,
                     const pipeline::LinearizeRunOptions& options) {
  options.conversion.check();
  const auto full = completed(run, "linearize");
  return unlocked([&] {
    const auto outcome = pipeline::linearize_model(full, options);
    return nlohmann::json{{"delivered", outcome.model.string()},
                          {"converted", outcome.converted},
                          {"measured", pipeline::measurements_json(outcome.measured)}};
  });
}

py::object decompose(const pipeline::SurgeryRun& run,
                     const pipeline::DecomposeRunOptions& options) {
  const auto full = completed(run, "decompose");
  return unlocked([&] {
    const auto outcome = pipeline::decompose_model(full, options);
    return nlohmann::json{{"delivered", outcome.model.string()},
                          {"measured", pipeline::measurements_json(outcome.measured)}};
  });
}

// Scores on the family's validation data, as the importance command does; a model that does
// not know its initial parameters (an imported one) gets contribution scores only unless
// criticality was asked for.
py::object importance(const fs::path& model_dir, const fs::path& out,
                      pipeline::EvaluationOptions evaluation,
                      pipeline::ImportanceRunOptions options, bool scores_given) {
  return unlocked([&] {
    auto model = train::load_model(model_dir, evaluation.device);
    pipeline::use_bundled_data(evaluation, model.model->config(), pipeline::DataSplit::kValidation);
    auto evaluator = pipeline::make_evaluator(model, evaluation, model_dir.string());
    if (model.init.empty() && !scores_given) options.scoring.criticality = false;
    options.on_progress = pipeline::importance_progress();
    pipeline::run_importance(*model.model, model.init, *evaluator, options, out,
                             run_record("importance"));
    return read_json(out / "results.json");
  });
}

pipeline::SearchRun search_run(pipeline::SearchRun run) {
  run.training.callbacks = pipeline::training_progress("search");
  run.record = run_record("search");
  return run;
}

py::object search_stage(const pipeline::SearchRun& run, pipeline::SearchStageOptions options) {
  const auto full = search_run(run);
  return unlocked([&] {
    const auto outcome = pipeline::run_search_stage(full, options);
    return nlohmann::json{{"results", outcome.results}, {"best", outcome.best}};
  });
}

std::string train_student(const pipeline::SearchRun& run, const std::string& architecture,
                          const std::string& name, int64_t steps) {
  const auto full = search_run(run);
  py::gil_scoped_release release;
  return pipeline::train_student(full, architecture, name, steps).string();
}

// The program's training defaults of one kind of run, keyed without their "train." prefix.
py::dict training_defaults(const std::string& kind) {
  py::dict out;
  for (const auto& [key, value] : pipeline::training_defaults(kind))
    out[py::str(key.substr(key.find('.') + 1))] = to_python(value);
  return out;
}

}  // namespace

void bind_pipeline(py::module_& m) {
  m.def("training_defaults", &training_defaults, py::arg("kind"));
  m.def("measure", &measure, py::arg("models"), py::arg("options"));
  m.def("compare", &compare, py::arg("models"), py::arg("options"), py::arg("out"));
  m.def("finetune", &finetune, py::arg("start_from"), py::arg("data"), py::arg("run"));
  m.def("finetune_text_task", &finetune_text_task, py::arg("encoder"), py::arg("data"),
        py::arg("run"), py::arg("from_scratch"));
  m.def("finetune_squad", &finetune_squad, py::arg("encoder"), py::arg("data"), py::arg("run"),
        py::arg("from_scratch"));
  m.def("prune_modules", &prune_modules, py::arg("run"), py::arg("finetune_steps"));
  m.def("rewind", &rewind, py::arg("run"), py::arg("steps"), py::arg("control"));
  m.def("sparsify", &sparsify, py::arg("run"), py::arg("options"));
  m.def("linearize", &linearize, py::arg("run"), py::arg("options"));
  m.def("decompose", &decompose, py::arg("run"), py::arg("options"));
  m.def("importance", &importance, py::arg("model"), py::arg("out"), py::arg("evaluation"),
        py::arg("options"), py::arg("scores_given"));
  m.def("search_stage", &search_stage, py::arg("run"), py::arg("options"));
  m.def("train_student", &train_student, py::arg("run"), py::arg("architecture"), py::arg("name"),
        py::arg("steps"));
}

}  // namespace slimformer::python
