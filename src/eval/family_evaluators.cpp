#include "slimformer/eval/family_evaluators.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "slimformer/core/error.h"
#include "slimformer/eval/glue_metrics.h"
#include "slimformer/eval/perplexity.h"
#include "slimformer/eval/squad_metrics.h"

namespace slimformer::eval {

namespace {

void require_metric(const std::string& metric, const std::vector<std::string>& known,
                    const std::string& what) {
  if (std::find(known.begin(), known.end(), metric) == known.end())
    throw core::UserError(
        fmt::format("--metric {}: {} is scored by {}", metric, what, fmt::join(known, ", ")));
}

// Runs `score` with the model in evaluation mode and no gradients, restoring its mode after.
template <typename Score>
double scored(torch::nn::Module& model, Score&& score) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const double value = score();
  model.train(was_training);
  return value;
}

}  // namespace

const std::vector<std::string>& language_model_metrics() {
  static const std::vector<std::string> metrics = {"ppl", "loss"};
  return metrics;
}

const std::vector<std::string>& squad_metrics() {
  static const std::vector<std::string> metrics = {"f1", "exact_match"};
  return metrics;
}

std::vector<std::string> glue_metrics(const data::TextTask& task) {
  const std::vector<double> labels = {0, 1};
  std::vector<std::string> out;
  for (const auto& [name, value] : glue_score(task, labels, labels).metrics) out.push_back(name);
  return out;
}

LanguageModelEvaluator::LanguageModelEvaluator(models::CausalLMImpl& model,
                                               std::vector<int64_t> stream, int64_t context,
                                               std::string metric, int64_t batch_size)
    : model_(model),
      stream_(std::move(stream)),
      context_(context),
      batch_size_(batch_size),
      metric_(std::move(metric)) {
  require_metric(metric_, language_model_metrics(), "a language model");
  if (stream_.size() < 2) throw core::UserError("the evaluation text has fewer than two tokens");
}

double LanguageModelEvaluator::evaluate(const std::vector<std::string>& /*changed*/) {
  return scored(model_, [&] {
    PerplexityOptions options;
    options.context = context_;
    options.batch_size = batch_size_;
    auto result = perplexity(model_, stream_, options);
    details_ = {{"ppl", result.perplexity()}, {"loss", result.loss()}};
    return details_.at(metric_);
  });
}

GlueEvaluator::GlueEvaluator(models::EncoderModelImpl& model, data::TextTask task,
                             EncodedGlue examples, std::string metric, int64_t max_tokens,
                             torch::Device device)
    : model_(model),
      task_(std::move(task)),
      examples_(std::move(examples)),
      metric_(std::move(metric)),
      max_tokens_(max_tokens),
      device_(device) {
  if (metric_.empty()) metric_ = glue_score(task_, {0, 1}, {0, 1}).primary;
  require_metric(metric_, glue_metrics(task_), task_.name);
  if (examples_.labels.empty()) throw core::UserError("the evaluation set has no examples");
}

double GlueEvaluator::evaluate(const std::vector<std::string>& /*changed*/) {
  return scored(model_, [&] {
    auto predicted = predict_glue(model_, examples_, max_tokens_, device_);
    const auto score = glue_score(task_, predicted, examples_.labels);
    details_.clear();
    for (const auto& [name, value] : score.metrics) details_[name] = 100.0 * value;
    leaderboard_ = score.leaderboard;
    return details_.at(metric_);
  });
}

SquadEvaluator::SquadEvaluator(models::EncoderModelImpl& model, const data::Tokenizer& tokenizer,
                               data::SquadDataset dataset, data::SquadFeatures features,
                               std::string metric, SquadPredictOptions options)
    : model_(model),
      tokenizer_(tokenizer),
      dataset_(std::move(dataset)),
      features_(std::move(features)),
      metric_(std::move(metric)),
      options_(options) {
  require_metric(metric_, squad_metrics(), "a span-QA encoder");
  if (features_.questions.empty()) throw core::UserError("the evaluation set has no questions");
}

double SquadEvaluator::evaluate(const std::vector<std::string>& /*changed*/) {
  return scored(model_, [&] {
    auto score = squad_score(dataset_, predict_squad(model_, features_, tokenizer_, options_));
    details_ = {{"f1", score.f1}, {"exact_match", score.exact_match}};
    return details_.at(metric_);
  });
}

}  // namespace slimformer::eval
