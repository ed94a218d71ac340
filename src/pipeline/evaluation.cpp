#include "slimformer/pipeline/evaluation.h"

#include <fmt/format.h>

#include <filesystem>

#include "slimformer/core/error.h"
#include "slimformer/data/glue.h"
#include "slimformer/data/parallel_corpus.h"
#include "slimformer/data/text_file.h"
#include "slimformer/data/token_windows.h"
#include "slimformer/eval/family_evaluators.h"
#include "slimformer/eval/translation_evaluator.h"
#include "slimformer/pipeline/masked_lm_evaluation.h"
#include "slimformer/pipeline/squad_split.h"

namespace slimformer::pipeline {

namespace fs = std::filesystem;

namespace {

enum class Family { kTranslation, kLanguageModel, kClassifier, kSpan, kMaskedLM };

Family family_of(const models::TransformerConfig& c) {
  if (c.model_type == "seq2seq") return Family::kTranslation;
  if (c.is_causal_lm()) return Family::kLanguageModel;
  if (c.encoder_head == "classification") return Family::kClassifier;
  if (c.encoder_head == "span") return Family::kSpan;
  return Family::kMaskedLM;
}

template <typename T>
T& family_model(const train::LoadedModel& m) {
  auto* model = m.as<T>();
  if (!model) throw std::logic_error("the model is not of the family its config names");
  return *model;
}

// Tokens per inference batch; 1 puts every example in a batch of its own.
int64_t batch_tokens(const EvaluationOptions& o) { return o.one_at_a_time ? 1 : o.max_tokens; }

std::unique_ptr<eval::ModelEvaluator> translation_evaluator(const train::LoadedModel& m,
                                                            const EvaluationOptions& o) {
  if (o.source.empty() || o.reference.empty())
    throw core::UserError("a translation model is scored on parallel text: give --src and --ref");
  auto vocab = std::dynamic_pointer_cast<data::Vocab>(m.tokenizer);
  if (!vocab) throw core::UserError("a translation model needs a sentencepiece vocabulary");
  auto text = data::read_parallel(o.source, o.reference);
  if (o.samples > 0 && size_t(o.samples) < text.source.size())
    text.source.resize(o.samples), text.target.resize(o.samples);
  eval::DecodeOptions decode;
  decode.beam_size = o.beam;
  if (o.one_at_a_time) decode.max_tokens = 1;
  return std::make_unique<eval::TranslationEvaluator>(
      family_model<models::Seq2SeqTransformerImpl>(m), *vocab, std::move(text),
      o.metric.empty() ? "bleu" : o.metric, decode, o.device);
}

std::unique_ptr<eval::ModelEvaluator> language_model_evaluator(const train::LoadedModel& m,
                                                               const EvaluationOptions& o) {
  if (o.text.empty())
    throw core::UserError("a causal language model is scored on running text: give --text FILE");
  auto lines = data::read_lines(o.text);
  if (o.samples > 0 && size_t(o.samples) < lines.size()) lines.resize(o.samples);
  auto stream = data::token_stream(*m.tokenizer, lines);
  if (stream.size() < 2) throw core::UserError(fmt::format("--text {}: no text", o.text));
  const int64_t context = o.context > 0 ? o.context : m.model->config().max_position_embeddings;
  return std::make_unique<eval::LanguageModelEvaluator>(
      family_model<models::CausalLMImpl>(m), std::move(stream), context,
      o.metric.empty() ? "ppl" : o.metric, o.one_at_a_time ? 1 : 8);
}

std::unique_ptr<eval::ModelEvaluator> classifier_evaluator(const train::LoadedModel& m,
                                                           const EvaluationOptions& o,
                                                           const std::string& name) {
  const auto [task, file] = text_task_evaluation(m.record, o, name);
  const auto& config = m.model->config();
  if (config.num_labels != task.num_labels())
    throw core::UserError(fmt::format("{}: not a {} classifier ({} outputs, the task has {})", name,
                                      task.name, config.num_labels, task.num_labels()));
  auto examples = data::read_text_task(file, task).examples;
  if (o.samples > 0 && size_t(o.samples) < examples.size()) examples.resize(o.samples);
  auto encoded = eval::encode_glue(examples, *m.tokenizer, config.max_position_embeddings);
  return std::make_unique<eval::GlueEvaluator>(family_model<models::EncoderModelImpl>(m), task,
                                               std::move(encoded), o.metric, batch_tokens(o),
                                               o.device);
}

// Keeps the first n questions (in file order) and the paragraphs and articles they need.
void keep_first_questions(data::SquadDataset& dataset, int64_t n) {
  std::vector<data::SquadArticle> kept;
  for (auto& article : dataset.articles) {
    if (n <= 0) break;
    std::vector<data::SquadParagraph> paragraphs;
    for (auto& paragraph : article.paragraphs) {
      if (n <= 0) break;
      if (int64_t(paragraph.questions.size()) > n) paragraph.questions.resize(n);
      n -= int64_t(paragraph.questions.size());
      paragraphs.push_back(std::move(paragraph));
    }
    article.paragraphs = std::move(paragraphs);
    kept.push_back(std::move(article));
  }
  dataset.articles = std::move(kept);
}

std::unique_ptr<eval::ModelEvaluator> span_evaluator(const train::LoadedModel& m,
                                                     const EvaluationOptions& o) {
  auto run = squad_options_of_run(m.record, m.model->config());
  if (!o.squad_file.empty()) run.file = o.squad_file;
  auto held_out = read_squad_split(run).held_out;
  if (o.samples > 0) keep_first_questions(held_out, o.samples);
  auto features = data::make_squad_windows(held_out, *m.tokenizer, run.windows);
  eval::SquadPredictOptions predict;
  predict.max_tokens = batch_tokens(o);
  predict.max_answer_length = run.max_answer_length;
  predict.device = o.device;
  return std::make_unique<eval::SquadEvaluator>(
      family_model<models::EncoderModelImpl>(m), *m.tokenizer, std::move(held_out),
      std::move(features), o.metric.empty() ? "f1" : o.metric, predict);
}

}  // namespace

void use_bundled_data(EvaluationOptions& options, const models::TransformerConfig& config,
                      DataSplit split) {
  if (family_of(config) != Family::kTranslation) return;
  const bool test = split == DataSplit::kTest;
  if (options.source.empty())
    options.source = test ? "data/multi30k/test_2016_flickr.en.gz" : "data/multi30k/val.en.gz";
  if (options.reference.empty())
    options.reference = test ? "data/multi30k/test_2016_flickr.de.gz" : "data/multi30k/val.de.gz";
}

std::string family_description(const models::TransformerConfig& c) {
  switch (family_of(c)) {
    case Family::kTranslation:
      return "a translation model (seq2seq)";
    case Family::kLanguageModel:
      return "a causal language model (causal_lm)";
    case Family::kClassifier:
      return "a classification encoder";
    case Family::kSpan:
      return "a span-QA encoder";
    case Family::kMaskedLM:
      break;
  }
  return "a masked-LM encoder";
}

TextTaskEvaluation text_task_evaluation(const nlohmann::json& record, const EvaluationOptions& o,
                                        const std::string& model_name) {
  auto recorded = recorded_text_task(record);
  if (!o.glue_task.empty()) recorded = {data::glue_task(o.glue_task), true, "", ""};
  if (!recorded.task)
    throw core::UserError(fmt::format(
        "{} does not record the task it was fine-tuned on: give --glue TASK", model_name));
  const std::string file =
      o.glue_file.empty() ? recorded.split_file("dev", o.glue_dir) : o.glue_file;
  if (file.empty())
    throw core::UserError(
        fmt::format("{} records no dev file for its task {}: give --glue-file FILE", model_name,
                    recorded.task->name));
  return {*recorded.task, file};
}

void refuse_family(const train::LoadedModel& model, const std::string& refusal,
                   const std::string& model_name) {
  throw core::UserError(
      fmt::format("{}; {} is {}", refusal, model_name, family_description(model.model->config())));
}

void check_options_apply(const train::LoadedModel& model, const EvaluationOptions& o,
                         const std::string& name) {
  const Family family = family_of(model.model->config());
  auto refuse = [&](const char* option, const char* applies_to) {
    refuse_family(model, fmt::format("{} applies to {}", option, applies_to), name);
  };
  if (family != Family::kTranslation && !o.source.empty()) refuse("--src", "translation models");
  if (family != Family::kTranslation && !o.reference.empty()) refuse("--ref", "translation models");
  if (family != Family::kTranslation && o.beam != 1) refuse("--beam", "translation models");
  if (family != Family::kLanguageModel && family != Family::kMaskedLM && !o.text.empty())
    refuse("--text", "language models and masked-LM encoders");
  if (family != Family::kLanguageModel && o.context != 0) refuse("--context", "language models");
  if (family != Family::kClassifier && !o.glue_task.empty())
    refuse("--glue", "classification encoders");
  if (family != Family::kClassifier && !o.glue_file.empty())
    refuse("--glue-file", "classification encoders");
  if (family != Family::kSpan && !o.squad_file.empty()) refuse("--squad-file", "span-QA encoders");
}

std::unique_ptr<eval::ModelEvaluator> make_evaluator(const train::LoadedModel& model,
                                                     const EvaluationOptions& options,
                                                     const std::string& name) {
  check_options_apply(model, options, name);
  switch (family_of(model.model->config())) {
    case Family::kTranslation:
      return translation_evaluator(model, options);
    case Family::kLanguageModel:
      return language_model_evaluator(model, options);
    case Family::kClassifier:
      return classifier_evaluator(model, options, name);
    case Family::kSpan:
      return span_evaluator(model, options);
    case Family::kMaskedLM:
      break;
  }
  return masked_lm_evaluator(model, options, name);
}

}  // namespace slimformer::pipeline
