#include "slimformer/tasks/multi_task_glue_task.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "slimformer/core/error.h"
#include "slimformer/core/json_fields.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tasks {

std::vector<eval::LabelSlice> label_slices(const std::vector<data::TextTask>& tasks) {
  std::vector<eval::LabelSlice> slices;
  int64_t offset = 0;
  for (const auto& task : tasks) {
    slices.push_back({offset, task.num_labels()});
    offset += task.num_labels();
  }
  return slices;
}

std::vector<std::string> recorded_task_names(const nlohmann::json& record,
                                             const std::string& source) {
  std::vector<std::string> names;
  const auto tasks = core::field_or(record, "tasks", nlohmann::json::array(), source);
  if (!tasks.is_array())
    throw core::UserError(
        fmt::format("{}: tasks holds {}, not a list", source, tasks.dump().substr(0, 60)));
  for (const auto& entry : tasks)
    names.push_back(core::field_or(core::object_member(entry, "task"), "name", std::string(),
                                   source + " tasks[].task"));
  return names;
}

int64_t total_labels(const std::vector<data::TextTask>& tasks) {
  int64_t total = 0;
  for (const auto& task : tasks) total += task.num_labels();
  return total;
}

MultiTaskGlueTask::MultiTaskGlueTask(models::EncoderModel model,
                                     std::shared_ptr<data::Tokenizer> tokenizer,
                                     core::TensorMap init, TaskParts parts, GlueTaskOptions options)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      init_(std::move(init)),
      parts_(std::move(parts)),
      options_(std::move(options)) {
  std::vector<data::TextTask> tasks;
  for (const auto& part : *parts_) tasks.push_back(part.task);
  slices_ = label_slices(tasks);
  if (model_->config().num_labels != total_labels(tasks))
    throw core::UserError(fmt::format("the model has {} outputs; the {} tasks need {} together",
                                      model_->config().num_labels, tasks.size(),
                                      total_labels(tasks)));
}

const std::vector<MultiTaskGlueTask::TaskBatch>& MultiTaskGlueTask::batches(int64_t epoch) {
  if (epoch == batches_epoch_) return batches_;
  // Planned on first use: a task built only to validate (a search's scorer) plans none.
  if (part_batches_.empty())
    for (size_t t = 0; t < parts_->size(); ++t)
      part_batches_.push_back(train::token_budget_batches(
          data::pair_lengths((*parts_)[t].train.inputs), options_.max_tokens,
          options_.seed * 131 + static_cast<int64_t>(t)));
  batches_.clear();
  for (size_t t = 0; t < parts_->size(); ++t)
    for (const auto& indices : part_batches_[t].at(epoch)) batches_.push_back({t, indices});
  std::mt19937_64 rng(uint64_t(options_.seed) * 1000003u + uint64_t(epoch));
  std::shuffle(batches_.begin(), batches_.end(), rng);
  batches_epoch_ = epoch;
  return batches_;
}

train::LossValue MultiTaskGlueTask::batch_loss(int64_t epoch, int64_t index) {
  const auto& batch = batches(epoch).at(index);
  const auto& part = (*parts_)[batch.part];
  const int64_t pad = model_->config().pad_token_id;
  auto b = eval::glue_batch(part.train, batch.indices, pad, options_.device);
  return glue_loss_value(eval::task_logits(model_->classify(model_->encode(b.tokens, b.segments)),
                                           slices_[batch.part]),
                         b, pad);
}

train::Metrics MultiTaskGlueTask::validate() {
  train::Metrics metrics;
  double sum = 0;
  for (size_t t = 0; t < parts_->size(); ++t) {
    const auto& part = (*parts_)[t];
    auto score = eval::glue_score(
        part.task,
        eval::predict_glue(*model_, part.dev, options_.max_tokens, options_.device, slices_[t]),
        part.dev.labels);
    for (const auto& [name, value] : score.metrics)
      metrics[fmt::format("{}.{}", part.task.name, name)] = value;
    sum += score.metrics.at(score.primary);
  }
  metrics["average"] = sum / double(parts_->size());
  return metrics;
}

void MultiTaskGlueTask::write_model(const std::filesystem::path& dir,
                                    const nlohmann::json& record) {
  nlohmann::json with_tasks = record;
  auto& tasks = with_tasks["tasks"] = nlohmann::json::array();
  for (size_t t = 0; t < parts_->size(); ++t)
    tasks.push_back({{"task", (*parts_)[t].task.to_json()},
                     {"offset", slices_[t].offset},
                     {"count", slices_[t].count}});
  train::write_model_files(dir, *model_, init_, *tokenizer_, with_tasks);
}

}  // namespace slimformer::tasks
