// ModelEvaluators for the causal LM and encoder families, beside the translation model's
// (eval/translation_evaluator.h): perplexity of a language model on running text, the GLUE
// task's metric of a classification encoder on its dev set, EM/F1 of a span encoder on SQuAD.
// Percentages are on a 0-100 scale, as default_threshold expects.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "slimformer/data/squad_windows.h"
#include "slimformer/eval/glue_predict.h"
#include "slimformer/eval/model_evaluator.h"
#include "slimformer/eval/squad_predict.h"
#include "slimformer/models/causal_lm.h"
#include "slimformer/models/encoder.h"

namespace slimformer::eval {

// Loss ("loss", nats per token) or perplexity ("ppl") of a token stream, every token predicted
// once from the tokens before it in its window of `context` tokens.
class LanguageModelEvaluator : public ModelEvaluator {
 public:
  LanguageModelEvaluator(models::CausalLMImpl& model, std::vector<int64_t> stream, int64_t context,
                         std::string metric, int64_t batch_size = 8);
  std::string metric() const override { return metric_; }
  bool higher_is_better() const override { return false; }
  double evaluate(const std::vector<std::string>& changed) override;
  size_t examples() const override { return stream_.size(); }

 private:
  models::CausalLMImpl& model_;
  std::vector<int64_t> stream_;
  int64_t context_, batch_size_;
  std::string metric_;
};

// A GLUE task's metric (accuracy, f1, mcc, pearson or spearman; x100) on encoded examples.
class GlueEvaluator : public ModelEvaluator {
 public:
  // `metric` empty: the task's primary metric.
  GlueEvaluator(models::EncoderModelImpl& model, data::TextTask task, EncodedGlue examples,
                std::string metric, int64_t max_tokens, torch::Device device);
  std::string metric() const override { return metric_; }
  bool higher_is_better() const override { return true; }
  double evaluate(const std::vector<std::string>& changed) override;
  size_t examples() const override { return examples_.labels.size(); }
  std::string summary() const override { return leaderboard_; }

 private:
  models::EncoderModelImpl& model_;
  data::TextTask task_;
  EncodedGlue examples_;
  std::string metric_, leaderboard_;
  int64_t max_tokens_;
  torch::Device device_;
};

// SQuAD v1.1 exact match ("exact_match") or F1 ("f1") of a span encoder on question windows.
class SquadEvaluator : public ModelEvaluator {
 public:
  SquadEvaluator(models::EncoderModelImpl& model, const data::Tokenizer& tokenizer,
                 data::SquadDataset dataset, data::SquadFeatures features, std::string metric,
                 SquadPredictOptions options);
  std::string metric() const override { return metric_; }
  bool higher_is_better() const override { return true; }
  double evaluate(const std::vector<std::string>& changed) override;
  size_t examples() const override { return features_.questions.size(); }

 private:
  models::EncoderModelImpl& model_;
  const data::Tokenizer& tokenizer_;
  data::SquadDataset dataset_;
  data::SquadFeatures features_;
  std::string metric_;
  SquadPredictOptions options_;
};

// Metrics a family's evaluator can report.
const std::vector<std::string>& language_model_metrics();  // ppl, loss
const std::vector<std::string>& squad_metrics();           // f1, exact_match
// accuracy, plus f1 (MRPC), mcc (CoLA), or pearson and spearman (STS-B only).
std::vector<std::string> glue_metrics(const data::TextTask& task);

}  // namespace slimformer::eval
