#include "slimformer/tasks/translation_task.h"

#include <cmath>

#include "slimformer/eval/bleu.h"
#include "slimformer/train/checkpoint.h"
#include "slimformer/train/loss.h"

namespace slimformer::tasks {

train::Metrics evaluate_translation(models::Seq2SeqTransformerImpl& model, const data::Vocab& vocab,
                                    const data::TokenizedPairs& pairs,
                                    const data::ParallelText& text,
                                    const TranslationTaskOptions& options) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  double nll = 0;
  int64_t tokens = 0;
  for (const auto& batch :
       data::batch_by_tokens(data::pair_lengths(pairs), options.max_tokens, false, 0)) {
    auto b = data::make_translation_batch(pairs, batch).to(options.device);
    auto loss = train::label_smoothed_cross_entropy(model.forward(b.src, b.tgt_in), b.tgt_out, 0.0,
                                                    data::Vocab::kPad);
    nll += loss.nll_sum.item<double>();
    tokens += loss.tokens;
  }
  train::Metrics metrics;
  metrics["loss"] = nll / std::max<int64_t>(tokens, 1);
  metrics["ppl"] = std::exp(metrics["loss"]);
  const size_t n = std::min<size_t>(options.bleu_samples, text.source.size());
  if (n > 0) {
    std::vector<std::string> sources(text.source.begin(), text.source.begin() + n);
    std::vector<std::string> refs(text.target.begin(), text.target.begin() + n);
    auto hyps = eval::translate(model, vocab, sources, options.decode, options.device);
    metrics["bleu"] = eval::corpus_bleu(hyps, {refs}).score;
  }
  model.train(was_training);
  return metrics;
}

TranslationTask::TranslationTask(models::Seq2SeqTransformer model, data::Vocab vocab,
                                 core::TensorMap init, data::TokenizedPairs train,
                                 data::TokenizedPairs valid, data::ParallelText valid_text,
                                 TranslationTaskOptions options)
    : model_(std::move(model)),
      vocab_(std::move(vocab)),
      init_(std::move(init)),
      train_(std::move(train)),
      valid_(std::move(valid)),
      valid_text_(std::move(valid_text)),
      options_(std::move(options)),
      batches_(train::token_budget_batches(data::pair_lengths(train_), options_.max_tokens,
                                           options_.seed)) {}

int64_t TranslationTask::num_batches(int64_t epoch) { return batches_.at(epoch).size(); }

train::LossValue TranslationTask::batch_loss(int64_t epoch, int64_t index) {
  auto batch =
      data::make_translation_batch(train_, batches_.at(epoch).at(index)).to(options_.device);
  auto loss =
      train::label_smoothed_cross_entropy(model_->forward(batch.src, batch.tgt_in), batch.tgt_out,
                                          options_.label_smoothing, data::Vocab::kPad);
  return {loss.loss_sum, loss.nll_sum.item<double>(), loss.tokens};
}

train::Metrics TranslationTask::validate() {
  return evaluate_translation(*model_, vocab_, valid_, valid_text_, options_);
}

void TranslationTask::write_model(const std::filesystem::path& dir, const nlohmann::json& record) {
  train::write_model_files(dir, *model_, init_, vocab_, record);
}

}  // namespace slimformer::tasks
