// One door to a model's natural metric, whatever its family: BLEU (or chrF, loss, perplexity)
// of a translation model on parallel text, perplexity of a language model on running text, the
// GLUE task's metric of a classification encoder, SQuAD F1 of a span encoder. An option that
// belongs to another family is refused with one line, never ignored.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "slimformer/data/text_task.h"
#include "slimformer/eval/model_evaluator.h"
#include "slimformer/pipeline/run_record.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::pipeline {

struct EvaluationOptions {
  std::string metric;   // empty: the family's natural metric
  int64_t samples = 0;  // the first N sentence pairs, lines or examples (0: all)
  torch::Device device = torch::kCPU;
  // A translation model: parallel text (--src, --ref) and the beam for BLEU.
  std::string source, reference;
  int64_t beam = 1;
  // A language model: running text (--text), scored in windows of `context` tokens (0: the
  // model's context).
  std::string text;
  int64_t context = 0;
  // A classification encoder: a GLUE task (--glue; empty: the task the model was fine-tuned on,
  // a GLUE task or a user's) and its labelled file (--glue-file; empty: the GLUE task's dev set
  // under glue_dir, or the dev file a user's task was fine-tuned with).
  std::string glue_task, glue_file;
  std::string glue_dir = "data/glue";
  // A span encoder: a SQuAD v1.1 file whose held-out articles are scored (--squad-file; empty:
  // the file and split the model was fine-tuned with).
  std::string squad_file;
  int64_t max_tokens = 4096;  // per inference batch
  // Every example in a batch of its own (latency at batch 1) instead of batches of max_tokens.
  bool one_at_a_time = false;
};

enum class DataSplit { kValidation, kTest };

// Fills the data the options leave out with the bundled data of the family: Multi30k's
// validation set or test2016 for a translation model. A language model needs --text; encoders are
// scored on the dev set of the GLUE task they record, or on their SQuAD split.
void use_bundled_data(EvaluationOptions& options, const models::TransformerConfig& config,
                      DataSplit split);

// "a translation model (seq2seq)", "a causal language model (causal_lm)", "a classification
// encoder", ...: how errors and reports name a family.
std::string family_description(const models::TransformerConfig& config);

// Refuses a model of another family: "<refusal>; <model_name> is <its family>".
[[noreturn]] void refuse_family(const train::LoadedModel& model, const std::string& refusal,
                                const std::string& model_name);
// The model as its family's type `Impl`, refused (refuse_family) when it is of another family:
// require_family<models::CausalLMImpl>(m, "generation needs a causal language model", dir).
template <typename Impl>
std::shared_ptr<Impl> require_family(const train::LoadedModel& model, const std::string& refusal,
                                     const std::string& model_name) {
  auto typed = std::dynamic_pointer_cast<Impl>(model.model);
  if (!typed) refuse_family(model, refusal, model_name);
  return typed;
}

// Refuses options that belong to another family than `model`'s: "--glue applies to
// classification encoders; runs/x is a translation model (seq2seq)".
void check_options_apply(const train::LoadedModel& model, const EvaluationOptions& options,
                         const std::string& model_name);

// The evaluator of the model's natural metric (or options.metric) on the data the options name;
// it keeps references to `model`, which must outlive it.
std::unique_ptr<eval::ModelEvaluator> make_evaluator(const train::LoadedModel& model,
                                                     const EvaluationOptions& options,
                                                     const std::string& model_name);

// The task a classification encoder is scored on (--glue's, or the one it records) and its
// labelled file (--glue-file, the GLUE task's dev set, or the dev file it was fine-tuned with).
struct TextTaskEvaluation {
  data::TextTask task;
  std::string file;
};
TextTaskEvaluation text_task_evaluation(const nlohmann::json& record,
                                        const EvaluationOptions& options,
                                        const std::string& model_name);

}  // namespace slimformer::pipeline
