#include "slimformer/tasks/language_model_task.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "slimformer/data/token_windows.h"
#include "slimformer/eval/perplexity.h"
#include "slimformer/train/checkpoint.h"
#include "slimformer/train/loss.h"

namespace slimformer::tasks {

LanguageModelTask::LanguageModelTask(models::CausalLM model,
                                     std::shared_ptr<data::Tokenizer> tokenizer,
                                     core::TensorMap init, std::vector<int64_t> train_stream,
                                     std::vector<int64_t> valid_stream, int64_t valid_words,
                                     LanguageModelTaskOptions options)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      init_(std::move(init)),
      train_(std::move(train_stream)),
      valid_(std::move(valid_stream)),
      valid_words_(valid_words),
      options_(std::move(options)) {
  // Windows in a shuffled order, a fixed number of them per batch.
  const int64_t windows = data::num_windows(static_cast<int64_t>(train_.size()), options_.context);
  const int64_t per_batch = std::max<int64_t>(1, options_.max_tokens / options_.context);
  batches_ = train::EpochBatches(options_.seed, [windows, per_batch](uint64_t epoch_seed) {
    std::vector<int64_t> order(windows);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(epoch_seed);
    std::shuffle(order.begin(), order.end(), rng);
    train::EpochBatches::Batches batches;
    for (size_t first = 0; first < order.size(); first += per_batch)
      batches.emplace_back(order.begin() + first,
                           order.begin() + std::min(order.size(), first + per_batch));
    return batches;
  });
}

int64_t LanguageModelTask::num_batches(int64_t epoch) { return batches_.at(epoch).size(); }

train::LossValue LanguageModelTask::batch_loss(int64_t epoch, int64_t index) {
  const auto& config = model_->config();
  auto batch = data::make_window_batch(train_, batches_.at(epoch).at(index), options_.context,
                                       config.bos_token_id, config.pad_token_id);
  auto loss = train::label_smoothed_cross_entropy(model_->forward(batch.input.to(options_.device)),
                                                  batch.target.to(options_.device),
                                                  options_.label_smoothing, config.pad_token_id);
  return {loss.loss_sum, loss.nll_sum.item<double>(), loss.tokens};
}

train::Metrics LanguageModelTask::validate() {
  eval::PerplexityOptions ppl_options;
  ppl_options.context = options_.context;
  ppl_options.batch_size = std::max<int64_t>(1, options_.max_tokens / options_.context);
  auto result = eval::perplexity(*model_, valid_, ppl_options);
  result.words = valid_words_;
  train::Metrics metrics = {{"loss", result.loss()}, {"ppl", result.perplexity()}};
  if (valid_words_ > 0) metrics["word_ppl"] = result.word_perplexity();
  return metrics;
}

void LanguageModelTask::write_model(const std::filesystem::path& dir,
                                    const nlohmann::json& record) {
  train::write_model_files(dir, *model_, init_, *tokenizer_, record);
}

}  // namespace slimformer::tasks
