// Training task for causal language models on running text: the training stream is cut into
// windows of `context` tokens (data::make_window_batch), shuffled per epoch and batched; the loss
// is label-smoothed cross entropy; validation is perplexity on the validation stream.
#pragma once

#include <memory>

#include "slimformer/data/tokenizer.h"
#include "slimformer/models/causal_lm.h"
#include "slimformer/train/epoch_batches.h"
#include "slimformer/train/trainer.h"

namespace slimformer::tasks {

struct LanguageModelTaskOptions {
  int64_t context = 128;      // tokens per window
  int64_t max_tokens = 4096;  // per batch: max_tokens / context windows
  double label_smoothing = 0.0;
  int64_t seed = 1;
  torch::Device device = torch::kCPU;
};

class LanguageModelTask : public train::TrainingTask {
 public:
  LanguageModelTask(models::CausalLM model, std::shared_ptr<data::Tokenizer> tokenizer,
                    core::TensorMap init, std::vector<int64_t> train_stream,
                    std::vector<int64_t> valid_stream, int64_t valid_words,
                    LanguageModelTaskOptions options);

  models::ModelTree& model() override { return *model_; }
  int64_t num_batches(int64_t epoch) override;
  train::LossValue batch_loss(int64_t epoch, int64_t index) override;
  // loss and ppl per token, and word_ppl when the validation text's words are known.
  train::Metrics validate() override;
  std::string primary_metric() const override { return "loss"; }
  bool higher_is_better() const override { return false; }
  void write_model(const std::filesystem::path& dir, const nlohmann::json& record) override;

 private:
  models::CausalLM model_;
  std::shared_ptr<data::Tokenizer> tokenizer_;
  core::TensorMap init_;
  std::vector<int64_t> train_, valid_;
  int64_t valid_words_;
  LanguageModelTaskOptions options_;
  train::EpochBatches batches_;
};

}  // namespace slimformer::tasks
