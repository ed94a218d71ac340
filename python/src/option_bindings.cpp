// The pipeline's option structs as Python classes with one attribute per field (the slimformer
// package fills them from keyword arguments). Devices read and write as "cpu" or "cuda", enums
// as the names the program's flags take.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.h"
#include "slimformer/core/runtime.h"
#include "slimformer/pipeline/compare.h"
#include "slimformer/pipeline/decompose.h"
#include "slimformer/pipeline/importance_run.h"
#include "slimformer/pipeline/linearize.h"
#include "slimformer/pipeline/search.h"
#include "slimformer/pipeline/sparsify.h"

namespace py = pybind11;

namespace slimformer::python {

namespace {

template <typename Options>
void device_property(py::class_<Options>& cls) {
  cls.def_property(
      "device", [](const Options& o) { return o.device.str(); },
      [](Options& o, const std::string& name) { o.device = core::parse_device(name, "device"); });
}

void bind_data_options(py::module_& m) {
  using pipeline::GlueData;
  py::class_<data::TextTask>(m, "TextTask")
      .def(py::init<>())
      .def_readwrite("name", &data::TextTask::name)
      .def_readwrite("text_columns", &data::TextTask::text_columns)
      .def_readwrite("label_column", &data::TextTask::label_column)
      .def_readwrite("labels", &data::TextTask::labels)
      .def_readwrite("header", &data::TextTask::header)
      .def_property(
          "delimiter", [](const data::TextTask& t) { return std::string(1, t.delimiter); },
          [](data::TextTask& t, const std::string& d) {
            if (d.size() != 1) throw py::value_error("delimiter: one character, '\\t' or ','");
            t.delimiter = d[0];
          })
      .def_readwrite("metric", &data::TextTask::metric);
  py::class_<pipeline::TranslationData>(m, "TranslationData")
      .def(py::init<>())
      .def_readwrite("train_src", &pipeline::TranslationData::train_src)
      .def_readwrite("train_tgt", &pipeline::TranslationData::train_tgt)
      .def_readwrite("valid_src", &pipeline::TranslationData::valid_src)
      .def_readwrite("valid_tgt", &pipeline::TranslationData::valid_tgt)
      .def_readwrite("max_length", &pipeline::TranslationData::max_length)
      .def_readwrite("bleu_samples", &pipeline::TranslationData::bleu_samples);
  py::class_<pipeline::LanguageModelData>(m, "LanguageModelData")
      .def(py::init<>())
      .def_readwrite("train_text", &pipeline::LanguageModelData::train_text)
      .def_readwrite("valid_text", &pipeline::LanguageModelData::valid_text)
      .def_readwrite("context", &pipeline::LanguageModelData::context);
  py::class_<GlueData>(m, "GlueData")
      .def(py::init<>())
      .def_readwrite("task", &GlueData::task)
      .def_readwrite("custom", &GlueData::custom)
      .def_readwrite("glue_dir", &GlueData::glue_dir)
      .def_readwrite("train_file", &GlueData::train_file)
      .def_readwrite("dev_file", &GlueData::dev_file)
      .def_readwrite("skip_malformed", &GlueData::skip_malformed)
      .def_readwrite("max_length", &GlueData::max_length);
  py::class_<data::SquadWindowOptions>(m, "SquadWindowOptions")
      .def(py::init<>())
      .def_readwrite("max_length", &data::SquadWindowOptions::max_length)
      .def_readwrite("doc_stride", &data::SquadWindowOptions::doc_stride)
      .def_readwrite("max_query_length", &data::SquadWindowOptions::max_query_length);
  py::class_<pipeline::SquadRunOptions>(m, "SquadRunOptions")
      .def(py::init<>())
      .def_readwrite("file", &pipeline::SquadRunOptions::file)
      .def_readwrite("held_out_articles", &pipeline::SquadRunOptions::held_out_articles)
      .def_readwrite("valid_articles", &pipeline::SquadRunOptions::valid_articles)
      .def_readwrite("windows", &pipeline::SquadRunOptions::windows)
      .def_readwrite("max_answer_length", &pipeline::SquadRunOptions::max_answer_length);
  py::class_<pipeline::MaskedLMData>(m, "MaskedLMData")
      .def(py::init<>())
      .def_readwrite("max_length", &pipeline::MaskedLMData::max_length)
      .def_readwrite("valid_pairs", &pipeline::MaskedLMData::valid_pairs)
      .def_readwrite("mask_probability", &pipeline::MaskedLMData::mask_probability);
  py::class_<pipeline::FinetuneData>(m, "FinetuneData")
      .def(py::init<>())
      .def_readwrite("translation", &pipeline::FinetuneData::translation)
      .def_readwrite("language_model", &pipeline::FinetuneData::language_model)
      .def_readwrite("glue", &pipeline::FinetuneData::glue)
      .def_readwrite("squad", &pipeline::FinetuneData::squad);
}

void bind_training_options(py::module_& m) {
  using train::TrainOptions;
  py::class_<train::ScheduleOptions>(m, "ScheduleOptions")
      .def(py::init<>())
      .def_readwrite("kind", &train::ScheduleOptions::kind)
      .def_readwrite("peak_lr", &train::ScheduleOptions::peak_lr)
      .def_readwrite("warmup_steps", &train::ScheduleOptions::warmup_steps)
      .def_readwrite("total_steps", &train::ScheduleOptions::total_steps);
  py::class_<TrainOptions>(m, "TrainOptions")
      .def(py::init<>())
      .def_readwrite("optimizer", &TrainOptions::optimizer)
      .def_readwrite("beta1", &TrainOptions::beta1)
      .def_readwrite("beta2", &TrainOptions::beta2)
      .def_readwrite("adam_eps", &TrainOptions::adam_eps)
      .def_readwrite("weight_decay", &TrainOptions::weight_decay)
      .def_readwrite("schedule", &TrainOptions::schedule)
      .def_readwrite("max_steps", &TrainOptions::max_steps)
      .def_readwrite("max_epochs", &TrainOptions::max_epochs)
      .def_readwrite("update_freq", &TrainOptions::update_freq)
      .def_readwrite("clip_norm", &TrainOptions::clip_norm)
      .def_readwrite("validate_every", &TrainOptions::validate_every)
      .def_readwrite("patience", &TrainOptions::patience)
      .def_readwrite("log_every", &TrainOptions::log_every)
      .def_readwrite("seed", &TrainOptions::seed)
      .def_readwrite("output_dir", &TrainOptions::output_dir)
      .def_readwrite("resume", &TrainOptions::resume);
  py::class_<pipeline::TrainingRun> run(m, "TrainingRun");
  run.def(py::init<>())
      .def_readwrite("train", &pipeline::TrainingRun::train)
      .def_readwrite("max_tokens", &pipeline::TrainingRun::max_tokens)
      .def_readwrite("label_smoothing", &pipeline::TrainingRun::label_smoothing);
  device_property(run);
}

void bind_measurement_options(py::module_& m) {
  using pipeline::EvaluationOptions;
  py::class_<EvaluationOptions> evaluation(m, "EvaluationOptions");
  evaluation.def(py::init<>())
      .def_readwrite("metric", &EvaluationOptions::metric)
      .def_readwrite("samples", &EvaluationOptions::samples)
      .def_readwrite("source", &EvaluationOptions::source)
      .def_readwrite("reference", &EvaluationOptions::reference)
      .def_readwrite("beam", &EvaluationOptions::beam)
      .def_readwrite("text", &EvaluationOptions::text)
      .def_readwrite("context", &EvaluationOptions::context)
      .def_readwrite("glue_task", &EvaluationOptions::glue_task)
      .def_readwrite("glue_file", &EvaluationOptions::glue_file)
      .def_readwrite("glue_dir", &EvaluationOptions::glue_dir)
      .def_readwrite("squad_file", &EvaluationOptions::squad_file)
      .def_readwrite("max_tokens", &EvaluationOptions::max_tokens)
      .def_readwrite("one_at_a_time", &EvaluationOptions::one_at_a_time);
  device_property(evaluation);
  py::class_<pipeline::MeasureOptions>(m, "MeasureOptions")
      .def(py::init<>())
      .def_readwrite("evaluation", &pipeline::MeasureOptions::evaluation)
      .def_readwrite("repeats", &pipeline::MeasureOptions::repeats)
      .def_readwrite("latency_examples", &pipeline::MeasureOptions::latency_examples);
  py::class_<pipeline::CompareOptions>(m, "CompareOptions")
      .def(py::init<>())
      .def_readwrite("measure", &pipeline::CompareOptions::measure)
      .def_readwrite("title", &pipeline::CompareOptions::title);
}

void bind_method_options(py::module_& m) {
  using pipeline::SurgeryRun;
  py::class_<SurgeryRun>(m, "SurgeryRun")
      .def(py::init<>())
      .def_readwrite("model_dir", &SurgeryRun::model_dir)
      .def_readwrite("out", &SurgeryRun::out)
      .def_readwrite("paths", &SurgeryRun::paths)
      .def_readwrite("resume", &SurgeryRun::resume)
      .def_readwrite("data", &SurgeryRun::data)
      .def_readwrite("finetune", &SurgeryRun::finetune)
      .def_readwrite("measure", &SurgeryRun::measure);

  using pipeline::SparsifyOptions;
  py::class_<SparsifyOptions>(m, "SparsifyOptions")
      .def(py::init<>())
      .def_readwrite("sparsity", &SparsifyOptions::sparsity)
      .def_property(
          "scope",
          [](const SparsifyOptions& o) {
            return o.scope == methods::PruningScope::kGlobal ? "global" : "per-matrix";
          },
          [](SparsifyOptions& o, const std::string& name) {
            o.scope = methods::parse_pruning_scope(name, "scope");
          })
      .def_readwrite("gradual", &SparsifyOptions::gradual)
      .def_readwrite("random", &SparsifyOptions::random)
      .def_readwrite("seed", &SparsifyOptions::seed)
      .def_property(
          "matrices", [](const SparsifyOptions& o) { return o.matrices.patterns; },
          [](SparsifyOptions& o, const std::vector<std::string>& p) { o.matrices.patterns = p; })
      .def_property(
          "embeddings", [](const SparsifyOptions& o) { return o.matrices.embeddings; },
          [](SparsifyOptions& o, bool e) { o.matrices.embeddings = e; })
      .def_readwrite("remove_dead_neurons", &SparsifyOptions::remove_dead_neurons)
      .def_readwrite("finetune_steps", &SparsifyOptions::finetune_steps)
      .def_readwrite("prune_begin", &SparsifyOptions::prune_begin)
      .def_readwrite("prune_end", &SparsifyOptions::prune_end)
      .def_readwrite("prune_every", &SparsifyOptions::prune_every);

  py::class_<methods::LinearizeOptions>(m, "LinearizeOptions")
      .def(py::init<>())
      .def_readwrite("sublayers", &methods::LinearizeOptions::sublayers)
      .def_readwrite("feature_map", &methods::LinearizeOptions::feature_map)
      .def_readwrite("feature_dim", &methods::LinearizeOptions::feature_dim)
      .def_readwrite("seed", &methods::LinearizeOptions::seed);
  py::class_<pipeline::LinearizeRunOptions>(m, "LinearizeRunOptions")
      .def(py::init<>())
      .def_readwrite("conversion", &pipeline::LinearizeRunOptions::conversion)
      .def_readwrite("finetune_steps", &pipeline::LinearizeRunOptions::finetune_steps)
      .def_readwrite("attention_only", &pipeline::LinearizeRunOptions::attention_only)
      .def_readwrite("control", &pipeline::LinearizeRunOptions::control);

  using pipeline::DecomposeRunOptions;
  py::class_<DecomposeRunOptions>(m, "DecomposeRunOptions")
      .def(py::init<>())
      .def_readwrite("k", &DecomposeRunOptions::k)
      .def_readwrite("finetune_steps", &DecomposeRunOptions::finetune_steps)
      .def_readwrite("task_weight", &DecomposeRunOptions::task_weight)
      .def_readwrite("distill_weight", &DecomposeRunOptions::distill_weight)
      .def_readwrite("similarity_weight", &DecomposeRunOptions::similarity_weight)
      .def_readwrite("temperature", &DecomposeRunOptions::temperature)
      .def_readwrite("control", &DecomposeRunOptions::control);

  using methods::ImportanceOptions;
  py::class_<ImportanceOptions>(m, "ImportanceOptions")
      .def(py::init<>())
      .def_readwrite("contribution", &ImportanceOptions::contribution)
      .def_readwrite("criticality", &ImportanceOptions::criticality)
      .def_readwrite("clip_fraction", &ImportanceOptions::clip_fraction)
      .def_readwrite("threshold", &ImportanceOptions::threshold)
      .def_readwrite("tolerance", &ImportanceOptions::tolerance)
      .def_readwrite("paths", &ImportanceOptions::paths);
  py::class_<pipeline::ImportanceRunOptions>(m, "ImportanceRunOptions")
      .def(py::init<>())
      .def_readwrite("scoring", &pipeline::ImportanceRunOptions::scoring)
      .def_readwrite("curve_max_k", &pipeline::ImportanceRunOptions::curve_max_k);

  using methods::SamplerOptions;
  py::class_<SamplerOptions>(m, "SamplerOptions")
      .def(py::init<>())
      .def_readwrite("kind", &SamplerOptions::kind)
      .def_readwrite("seed", &SamplerOptions::seed)
      .def_readwrite("initial_samples", &SamplerOptions::initial_samples)
      .def_readwrite("tree_depth", &SamplerOptions::tree_depth)
      .def_readwrite("min_leaf", &SamplerOptions::min_leaf)
      .def_readwrite("exploration", &SamplerOptions::exploration);
  using pipeline::SearchRun;
  py::class_<SearchRun>(m, "SearchRun")
      .def(py::init<>())
      .def_readwrite("teacher", &SearchRun::teacher)
      .def_readwrite("out", &SearchRun::out)
      .def_readwrite("text", &SearchRun::text)
      .def_readwrite("data", &SearchRun::data)
      .def_readwrite("training", &SearchRun::training)
      .def_readwrite("warmup_steps", &SearchRun::warmup_steps)
      .def_readwrite("min_parameters", &SearchRun::min_parameters)
      .def_readwrite("max_parameters", &SearchRun::max_parameters)
      .def_readwrite("budget_ratio", &SearchRun::budget_ratio);
  using pipeline::SearchStageOptions;
  py::class_<SearchStageOptions>(m, "SearchStageOptions")
      .def(py::init<>())
      .def_readwrite("stage", &SearchStageOptions::stage)
      .def_readwrite("candidates", &SearchStageOptions::candidates)
      .def_readwrite("candidate_steps", &SearchStageOptions::candidate_steps)
      .def_readwrite("sharing_steps", &SearchStageOptions::sharing_steps)
      .def_readwrite("glue_tasks", &SearchStageOptions::glue_tasks)
      .def_readwrite("glue_steps", &SearchStageOptions::glue_steps)
      .def_readwrite("glue_dir", &SearchStageOptions::glue_dir)
      .def_readwrite("sampler", &SearchStageOptions::sampler)
      .def_readwrite("fixed", &SearchStageOptions::fixed);
}

}  // namespace

void bind_options(py::module_& m) {
  bind_data_options(m);
  bind_training_options(m);
  bind_measurement_options(m);
  bind_method_options(m);
}

}  // namespace slimformer::python
