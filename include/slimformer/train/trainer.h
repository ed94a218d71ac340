// The training loop shared by every model family: Adam/AdamW, learning-rate schedule, gradient
// accumulation and clipping, validation every N updates, best-checkpoint keeping, early
// stopping, exact resume and saving on interruption. What is trained comes from a TrainingTask.
// Methods run inside it through parameter groups (their own learning rates, frozen parameters)
// and hooks called after every optimizer update, whose state the checkpoints keep.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "slimformer/core/error.h"
#include "slimformer/core/safetensors.h"
#include "slimformer/models/model_tree.h"
#include "slimformer/train/data_parallel.h"
#include "slimformer/train/schedule.h"

namespace slimformer::train {

// Parameters whose names match `patterns` (core/glob.h: "decoder.layers.*.self_attn.**") train
// at lr_scale times the schedule's learning rate, or not at all when frozen. A parameter belongs
// to the first group that matches it.
struct ParameterGroup {
  std::vector<std::string> patterns;
  double lr_scale = 1.0;
  bool frozen = false;
};

// What a method runs inside training, after every optimizer update: re-applying masks, advancing
// a pruning schedule. Its state is saved with every checkpoint and restored on resume.
class TrainingHook {
 public:
  virtual ~TrainingHook() = default;
  // Names the hook's state in checkpoints; unique among a run's hooks.
  virtual std::string name() const = 0;
  // Before the first update of a run, and of a resumed run after its state is restored.
  virtual void before_training(models::ModelTree& /*model*/) {}
  // After optimizer update `step` (1-based), before logging and validation.
  virtual void after_update(int64_t step, models::ModelTree& model) = 0;
  virtual core::TensorMap state() const { return {}; }
  virtual void load_state(const core::TensorMap& /*state*/) {}
};

struct TrainOptions {
  std::string optimizer = "adam";  // adam | adamw
  double beta1 = 0.9, beta2 = 0.98, adam_eps = 1e-9, weight_decay = 0.0;
  ScheduleOptions schedule;
  int64_t max_steps = 10000;  // optimizer updates
  int64_t max_epochs = 0;     // 0: no limit
  int64_t update_freq = 1;    // batches accumulated per update
  double clip_norm = 0.0;     // 0: no clipping
  int64_t validate_every = 1000;
  int64_t patience = 0;  // validations without improvement before stopping; 0: never
  int64_t log_every = 50;
  int64_t seed = 1;
  std::filesystem::path output_dir = "runs/train";
  bool resume = false;
  const std::atomic<bool>* stop_requested = nullptr;  // set by a signal handler
  // Parameter groups, first match wins; parameters no group matches train at the schedule's
  // rate, or are frozen with freeze_unmatched.
  std::vector<ParameterGroup> parameter_groups;
  bool freeze_unmatched = false;
  std::vector<std::shared_ptr<TrainingHook>> hooks;
  // An update whose loss or gradients are not finite (NaN, inf): "skip" leaves the parameters
  // as they were and counts it (the log's "non_finite" events, TrainResult::skipped_updates);
  // "stop" saves the last checkpoint, without that update, and throws NonFiniteUpdate.
  std::string on_non_finite = "skip";
  // Training on several workers (train/data_parallel.h): each update's update_freq × world_size
  // batches are dealt out among them, so the update is the one a single process makes with
  // update_freq × world_size. The primary validates, logs and writes checkpoints. A worker that
  // joined its group before loading the run passes it in `workers`; otherwise the trainer joins.
  // A fresh run's primary first writes a step-0 checkpoint, which the other workers resume from.
  DataParallelOptions data_parallel;
  std::shared_ptr<Collective> workers;
};

// Thrown by run_training on a worker other than the primary once the run is over: what follows
// training (evaluation, results, reports) is the primary's alone.
class SecondaryWorkerDone : public std::exception {
 public:
  const char* what() const noexcept override { return "this worker's part of the run is over"; }
};

// The run stopped at a non-finite update (on_non_finite "stop"); its last checkpoint resumes it.
class NonFiniteUpdate : public core::UserError {
 public:
  using core::UserError::UserError;
};

struct LossValue {
  torch::Tensor loss_sum;    // backpropagated
  double report_sum = 0;     // summed per-token loss to report (e.g. unsmoothed NLL)
  int64_t tokens = 0;        // what the gradient is normalized by (target tokens, examples)
  int64_t input_tokens = 0;  // tokens the model read, for throughput; 0: the same as `tokens`
};

using Metrics = std::map<std::string, double>;

class TrainingTask {
 public:
  virtual ~TrainingTask() = default;
  virtual models::ModelTree& model() = 0;
  // Batches of epoch `epoch` in a fixed order derived from the seed, so resume is exact.
  virtual int64_t num_batches(int64_t epoch) = 0;
  virtual LossValue batch_loss(int64_t epoch, int64_t index) = 0;
  virtual Metrics validate() = 0;
  // The metric that picks the best checkpoint, and its direction.
  virtual std::string primary_metric() const = 0;
  virtual bool higher_is_better() const = 0;
  // Writes config, weights, init weights and tokenizer into an existing directory.
  virtual void write_model(const std::filesystem::path& dir, const nlohmann::json& record) = 0;
};

struct TrainProgress {
  int64_t step = 0, max_steps = 0, epoch = 0;
  double loss = 0, learning_rate = 0, tokens_per_second = 0, elapsed_seconds = 0;
};

struct TrainCallbacks {
  std::function<void(const TrainProgress&)> on_progress;
  std::function<void(int64_t step, const Metrics&)> on_validation;
};

struct TrainResult {
  int64_t steps = 0;
  Metrics best;
  double seconds = 0;
  double tokens_per_second = 0;
  std::string stop_reason;
  int64_t skipped_updates = 0;  // non-finite updates left out, over the whole run
};

// Runs training; writes <output_dir>/last (resumable), <output_dir>/best and
// <output_dir>/train_log.jsonl. Throws core::Interrupted after saving when stop is requested.
TrainResult run_training(TrainingTask& task, const TrainOptions& options,
                         const nlohmann::json& run_record, const TrainCallbacks& callbacks = {});

}  // namespace slimformer::train
