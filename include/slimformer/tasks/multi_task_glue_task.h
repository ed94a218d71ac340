// Fine-tuning one encoder on several sentence and sentence-pair tasks at once, as EfficientBERT's
// third search stage fine-tunes its weight-sharing super-network on GLUE (MT-DNN style). The
// tasks share the body and the pooler; the classification head's outputs are split among them,
// each task owning a slice (its own output layer). Every batch comes from one task, and an epoch
// is every batch of every task in a shuffled order, so each task is seen in proportion to its
// size. Validation scores each task on its own held-out examples with its own metric; the primary
// metric is the mean of the tasks' primary metrics.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "slimformer/tasks/glue_task.h"

namespace slimformer::tasks {

struct TaskPart {
  data::TextTask task;
  eval::EncodedGlue train, dev;
};

// Tasks' data shared by a training run and the scorers that follow it, never copied.
using TaskParts = std::shared_ptr<const std::vector<TaskPart>>;

// The head's slice of each task, in order, and the outputs they need together.
std::vector<eval::LabelSlice> label_slices(const std::vector<data::TextTask>& tasks);
int64_t total_labels(const std::vector<data::TextTask>& tasks);

// The names of the tasks a MultiTaskGlueTask checkpoint's record (slimformer.json, read from
// `source`) was fine-tuned on, in head order; empty for any other record.
std::vector<std::string> recorded_task_names(const nlohmann::json& record,
                                             const std::string& source);

class MultiTaskGlueTask : public train::TrainingTask {
 public:
  // The model's classification head must have total_labels(tasks) outputs. options.teacher is
  // not used: a teacher would need a head of each task.
  MultiTaskGlueTask(models::EncoderModel model, std::shared_ptr<data::Tokenizer> tokenizer,
                    core::TensorMap init, TaskParts parts, GlueTaskOptions options);

  models::ModelTree& model() override { return *model_; }
  int64_t num_batches(int64_t epoch) override { return batches(epoch).size(); }
  train::LossValue batch_loss(int64_t epoch, int64_t index) override;
  // "<task>.<metric>" for each task's metrics, and "average".
  train::Metrics validate() override;
  std::string primary_metric() const override { return "average"; }
  bool higher_is_better() const override { return true; }
  void write_model(const std::filesystem::path& dir, const nlohmann::json& record) override;

  struct TaskBatch {
    size_t part;
    std::vector<int64_t> indices;
  };
  // The batches of an epoch, every task's, shuffled together (the same for the same seed).
  const std::vector<TaskBatch>& batches(int64_t epoch);

 private:
  models::EncoderModel model_;
  std::shared_ptr<data::Tokenizer> tokenizer_;
  core::TensorMap init_;
  TaskParts parts_;
  std::vector<eval::LabelSlice> slices_;
  GlueTaskOptions options_;
  std::vector<train::EpochBatches> part_batches_;
  std::vector<TaskBatch> batches_;
  int64_t batches_epoch_ = -1;
};

}  // namespace slimformer::tasks
