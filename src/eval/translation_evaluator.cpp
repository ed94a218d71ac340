#include "slimformer/eval/translation_evaluator.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "slimformer/core/error.h"
#include "slimformer/eval/bleu.h"
#include "slimformer/eval/chrf.h"
#include "slimformer/train/loss.h"

namespace slimformer::eval {

std::string ModelEvaluator::summary() const {
  std::string out;
  for (const auto& [name, value] : details_)
    out += fmt::format("{}{} {:.2f}", out.empty() ? "" : "  ", name, value);
  return out;
}

double default_threshold(const std::string& metric, double baseline) {
  if (metric == "loss") return 0.01;
  if (metric == "ppl") return 0.01 * std::abs(baseline);
  return 0.5;  // BLEU, accuracy, F1, correlations: points on a 0-100 scale
}

double default_clip_fraction(const std::string& metric) {
  return metric == "bleu" || metric == "chrf" ? 0.1 : 0.0;
}

const std::vector<std::string>& translation_metrics() {
  static const std::vector<std::string> metrics = {"bleu", "chrf", "loss", "ppl"};
  return metrics;
}

namespace {

bool touches_encoder(const std::vector<std::string>& changed) {
  return std::any_of(changed.begin(), changed.end(),
                     [](const std::string& path) { return !path.starts_with("decoder."); });
}

}  // namespace

TranslationEvaluator::TranslationEvaluator(models::Seq2SeqTransformerImpl& model,
                                           const data::Vocab& vocab, data::ParallelText text,
                                           std::string metric, DecodeOptions decode,
                                           torch::Device device, int64_t max_tokens)
    : model_(model),
      vocab_(vocab),
      text_(std::move(text)),
      metric_(std::move(metric)),
      decode_(decode) {
  const auto& known = translation_metrics();
  if (std::find(known.begin(), known.end(), metric_) == known.end())
    throw core::UserError(fmt::format("--metric {}: a translation model is scored by {}", metric_,
                                      fmt::join(known, ", ")));
  if (text_.source.empty()) throw core::UserError("the evaluation set has no sentences");
  if (decodes()) {
    source_batches_ = prepare_source_batches(model_, vocab_, text_.source, decode_, device);
  } else {
    auto pairs = data::tokenize_pairs(text_, vocab_, model_.config().max_position_embeddings - 1);
    for (const auto& batch :
         data::batch_by_tokens(data::pair_lengths(pairs), max_tokens, false, 0)) {
      loss_batches_.push_back(data::make_translation_batch(pairs, batch).to(device));
      loss_sources_.push_back(loss_batches_.back().src);
    }
  }
}

const std::vector<models::EncoderOutput>* TranslationEvaluator::reusable_encoding(
    const std::vector<std::string>& changed, const std::vector<torch::Tensor>& sources,
    std::vector<models::EncoderOutput>& cache) {
  if (touches_encoder(changed)) return nullptr;
  if (cache.empty())  // the encoder is at its reference state now
    for (const auto& src : sources) cache.push_back(model_.encode(src));
  return &cache;
}

double TranslationEvaluator::bleu(const std::vector<std::string>& changed) {
  const auto* encoded = reusable_encoding(changed, source_batches_.src, decode_encoding_);
  auto hyps = translate_batches(model_, vocab_, source_batches_, decode_, encoded);
  details_ = {{"bleu", corpus_bleu(hyps, {text_.target}).score},
              {"chrf", corpus_chrf(hyps, text_.target).score}};
  return details_.at(metric_);
}

double TranslationEvaluator::loss(const std::vector<std::string>& changed) {
  const auto* encoded = reusable_encoding(changed, loss_sources_, loss_encoding_);
  double nll = 0;
  int64_t tokens = 0;
  for (size_t i = 0; i < loss_batches_.size(); ++i) {
    const auto& b = loss_batches_[i];
    auto logits = model_.decode(b.tgt_in, encoded ? encoded->at(i) : model_.encode(b.src));
    auto loss = train::label_smoothed_cross_entropy(logits, b.tgt_out, 0.0, data::Vocab::kPad);
    nll += loss.nll_sum.item<double>();
    tokens += loss.tokens;
  }
  const double mean = nll / std::max<int64_t>(tokens, 1);
  details_ = {{"loss", mean}, {"ppl", std::exp(mean)}};
  return details_.at(metric_);
}

double TranslationEvaluator::evaluate(const std::vector<std::string>& changed) {
  torch::NoGradGuard no_grad;
  const bool was_training = model_.is_training();
  model_.eval();
  const double value = decodes() ? bleu(changed) : loss(changed);
  model_.train(was_training);
  return value;
}

}  // namespace slimformer::eval
