// Knowledge distillation from a teacher: a second model, run on the same batch as the student,
// whose outputs and taps feed the loss beside the task's own:
//   task_weight * task loss
//   + logit_weight * T^2 * soft cross-entropy of the student's logits against the teacher's at
//     temperature T (Hinton et al. 2015; mean squared error for a single regression output)
//   + tap_weight * mean squared error between chosen taps (layer-wise representation losses,
//     as TinyBERT's hidden-state loss and DeFormer's layer-wise similarity).
// Every term is a mean over the batch's rows (tokens, examples), scaled to the row count as the
// trainer's loss sums are. A training task calls it when its options carry a teacher.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "slimformer/core/error.h"
#include "slimformer/models/model_tree.h"
#include "slimformer/nn/taps.h"

namespace slimformer::train {

struct DistillationOptions {
  double temperature = 1.0;
  double task_weight = 1.0;
  double logit_weight = 1.0;
  double tap_weight = 0.0;
  // Taps compared, as "name" (the same in both models) or "student_name=teacher_name".
  std::vector<std::string> taps;
};

// Soft cross-entropy -sum p_teacher log p_student at temperature T, times T^2, averaged over the
// rows of logits [..., C] (rows where `rows` is true, when given).
torch::Tensor soft_cross_entropy(const torch::Tensor& student, const torch::Tensor& teacher,
                                 double temperature, const torch::Tensor& rows = {});

// Mean squared error over the elements of two tensors of one shape; for hidden states
// [B, T, D] with a [B, T] `rows` mask, over the masked-in positions only.
torch::Tensor tap_mse(const torch::Tensor& student, const torch::Tensor& teacher,
                      const torch::Tensor& rows = {});

class Teacher {
 public:
  // The teacher runs in evaluation mode, without gradients; `model` must be of the student's
  // family. Throws a UserError for a tap spec or option that cannot work.
  Teacher(std::shared_ptr<models::ModelTree> model, DistillationOptions options);

  models::ModelTree& model() { return *model_; }
  // The teacher as the student's family type; a UserError when it is of another family.
  template <typename Model>
  Model& model_as() {
    auto* typed = dynamic_cast<Model*>(model_.get());
    if (!typed)
      throw core::UserError("the teacher is a " + model_->config().model_type +
                            " model, not of the student's family");
    return *typed;
  }
  const DistillationOptions& options() const { return options_; }

  // Recorders of the compared taps for one batch: the student's and the teacher's.
  nn::TapRecorder student_taps() const;
  nn::TapRecorder teacher_taps() const;

  // The distillation loss as a sum over `rows` rows: the task's loss sum combined with the logit
  // and tap terms. `logit_rows` selects the logits' real rows (undefined: all), `positions` the
  // taps' real positions ([B, T]; undefined: all).
  torch::Tensor loss(const torch::Tensor& task_loss_sum, const torch::Tensor& student_logits,
                     const torch::Tensor& teacher_logits, const nn::TapRecorder& student_taps,
                     const nn::TapRecorder& teacher_taps, int64_t rows,
                     const torch::Tensor& logit_rows = {},
                     const torch::Tensor& positions = {}) const;

 private:
  std::shared_ptr<models::ModelTree> model_;
  DistillationOptions options_;
  std::vector<std::pair<std::string, std::string>> pairs_;  // student tap, teacher tap
};

}  // namespace slimformer::train
