// Training task for masked-LM pre-training of an encoder: sentence pairs batched by a token
// budget, masked afresh for every batch (seeded by the run seed, epoch and batch, so resume is
// exact), cross entropy on the chosen tokens; validation by loss and accuracy on the predicted
// tokens of held-out pairs with a fixed masking.
#pragma once

#include <memory>

#include "slimformer/data/masked_lm.h"
#include "slimformer/data/tokenizer.h"
#include "slimformer/models/encoder.h"
#include "slimformer/train/distillation.h"
#include "slimformer/train/epoch_batches.h"
#include "slimformer/train/trainer.h"

namespace slimformer::tasks {

struct MaskedLMTaskOptions {
  int64_t max_tokens = 4096;  // per batch, counting padding
  double mask_probability = 0.15;
  int64_t seed = 1;
  torch::Device device = torch::kCPU;
  std::shared_ptr<train::Teacher> teacher;  // distil from it when set
};

class MaskedLMTask : public train::TrainingTask {
 public:
  MaskedLMTask(models::EncoderModel model, std::shared_ptr<data::Tokenizer> tokenizer,
               core::TensorMap init, std::vector<data::SegmentPair> train,
               std::vector<data::SegmentPair> valid, MaskedLMTaskOptions options);

  models::ModelTree& model() override { return *model_; }
  int64_t num_batches(int64_t epoch) override;
  train::LossValue batch_loss(int64_t epoch, int64_t index) override;
  train::Metrics validate() override;  // loss, ppl, accuracy of the masked tokens
  std::string primary_metric() const override { return "loss"; }
  bool higher_is_better() const override { return false; }
  void write_model(const std::filesystem::path& dir, const nlohmann::json& record) override;

  // The special ids of a tokenizer; a UserError if it has no mask or padding token.
  static data::SpecialIds special_ids(const data::Tokenizer& tokenizer);

 private:
  data::MaskedBatch batch(const std::vector<data::SegmentPair>& pairs,
                          const std::vector<int64_t>& indices, uint64_t seed) const;

  models::EncoderModel model_;
  std::shared_ptr<data::Tokenizer> tokenizer_;
  core::TensorMap init_;
  std::vector<data::SegmentPair> train_, valid_;
  MaskedLMTaskOptions options_;
  data::SpecialIds special_;
  train::EpochBatches batches_;
};

}  // namespace slimformer::tasks
