// Fine-tuning an encoder for extractive QA on SQuAD v1.1: question/passage windows
// (data/squad_windows.h), cross entropy on the start and end positions of the gold answer ([CLS]
// when the window does not hold it); validation is the official EM/F1 of the best spans
// (eval/squad_predict.h).
#pragma once

#include <memory>

#include "slimformer/data/squad_windows.h"
#include "slimformer/eval/squad_metrics.h"
#include "slimformer/eval/squad_predict.h"
#include "slimformer/models/encoder.h"
#include "slimformer/train/distillation.h"
#include "slimformer/train/epoch_batches.h"
#include "slimformer/train/trainer.h"

namespace slimformer::tasks {

struct SquadTaskOptions : eval::SquadPredictOptions {
  int64_t seed = 1;
  std::shared_ptr<train::Teacher> teacher;  // distil from it when set
};

class SquadFinetuneTask : public train::TrainingTask {
 public:
  SquadFinetuneTask(models::EncoderModel model, std::shared_ptr<data::Tokenizer> tokenizer,
                    core::TensorMap init, data::SquadFeatures train, data::SquadDataset valid,
                    data::SquadFeatures valid_features, SquadTaskOptions options);

  models::ModelTree& model() override { return *model_; }
  int64_t num_batches(int64_t epoch) override { return batches_.at(epoch).size(); }
  train::LossValue batch_loss(int64_t epoch, int64_t index) override;
  train::Metrics validate() override;
  std::string primary_metric() const override { return "f1"; }
  bool higher_is_better() const override { return true; }
  void write_model(const std::filesystem::path& dir, const nlohmann::json& record) override;

 private:
  models::EncoderModel model_;
  std::shared_ptr<data::Tokenizer> tokenizer_;
  core::TensorMap init_;
  data::SquadFeatures train_;
  data::SquadDataset valid_;
  data::SquadFeatures valid_features_;
  SquadTaskOptions options_;
  train::EpochBatches batches_;
};

}  // namespace slimformer::tasks
