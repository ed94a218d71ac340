// Fine-tuning an encoder on a sentence or sentence-pair task, GLUE's or a user's own
// (data/text_task.h): examples encoded as "[CLS] a [SEP] b [SEP]" with segment ids
// (eval/glue_predict.h), batched by a token budget; cross entropy on the class logits (mean squared
// error for a regression task such as STS-B); validation by the task's metric on its dev set.
#pragma once

#include <memory>

#include "slimformer/data/text_task.h"
#include "slimformer/data/tokenizer.h"
#include "slimformer/eval/glue_metrics.h"
#include "slimformer/eval/glue_predict.h"
#include "slimformer/models/encoder.h"
#include "slimformer/train/distillation.h"
#include "slimformer/train/epoch_batches.h"
#include "slimformer/train/trainer.h"

namespace slimformer::tasks {

// Mean loss of a batch: cross entropy over the classes, or squared error when `logits` has one
// output (regression).
torch::Tensor glue_loss(const torch::Tensor& logits, const torch::Tensor& labels);
// The trainer's value of a batch without a teacher: its task loss summed over the examples
// (the trainer normalizes by examples), and the tokens read.
train::LossValue glue_loss_value(const torch::Tensor& logits, const eval::GlueBatch& batch,
                                 int64_t pad);

struct GlueTaskOptions {
  int64_t max_tokens = 4096;
  int64_t seed = 1;
  torch::Device device = torch::kCPU;
  std::shared_ptr<train::Teacher> teacher;  // distil from it when set
};

class GlueFinetuneTask : public train::TrainingTask {
 public:
  GlueFinetuneTask(models::EncoderModel model, std::shared_ptr<data::Tokenizer> tokenizer,
                   core::TensorMap init, data::TextTask task, eval::EncodedGlue train,
                   eval::EncodedGlue dev, GlueTaskOptions options);

  models::ModelTree& model() override { return *model_; }
  int64_t num_batches(int64_t epoch) override;
  train::LossValue batch_loss(int64_t epoch, int64_t index) override;
  train::Metrics validate() override;
  std::string primary_metric() const override { return primary_; }
  bool higher_is_better() const override { return true; }
  void write_model(const std::filesystem::path& dir, const nlohmann::json& record) override;

 private:
  models::EncoderModel model_;
  std::shared_ptr<data::Tokenizer> tokenizer_;
  core::TensorMap init_;
  data::TextTask task_;
  eval::EncodedGlue train_, dev_;
  GlueTaskOptions options_;
  std::string primary_;
  train::EpochBatches batches_;
};

}  // namespace slimformer::tasks
