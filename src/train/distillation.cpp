#include "slimformer/train/distillation.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "slimformer/core/error.h"

namespace slimformer::train {

torch::Tensor soft_cross_entropy(const torch::Tensor& student, const torch::Tensor& teacher,
                                 double temperature, const torch::Tensor& rows) {
  torch::Tensor s = student, t = teacher;
  if (rows.defined()) s = s.index({rows}), t = t.index({rows});
  s = s.reshape({-1, s.size(-1)}), t = t.reshape({-1, t.size(-1)});
  if (s.size(0) == 0) return student.sum() * 0.0;
  const torch::Tensor target = torch::softmax(t.detach() / temperature, -1);
  const torch::Tensor per_row = -(target * torch::log_softmax(s / temperature, -1)).sum(-1);
  return per_row.mean() * (temperature * temperature);
}

torch::Tensor tap_mse(const torch::Tensor& student, const torch::Tensor& teacher,
                      const torch::Tensor& rows) {
  if (!student.sizes().equals(teacher.sizes()))
    throw core::UserError(
        fmt::format("distillation: a student tap of shape [{}] cannot be "
                    "compared with a teacher tap of shape [{}]",
                    fmt::join(student.sizes(), ", "), fmt::join(teacher.sizes(), ", ")));
  const bool positions =
      rows.defined() && student.dim() == 3 && rows.sizes().equals(student.sizes().slice(0, 2));
  if (!positions) return torch::mse_loss(student, teacher.detach());
  return torch::mse_loss(student.index({rows}), teacher.detach().index({rows}));
}

Teacher::Teacher(std::shared_ptr<models::ModelTree> model, DistillationOptions options)
    : model_(std::move(model)), options_(std::move(options)) {
  if (options_.temperature <= 0)
    throw core::UserError(
        fmt::format("distillation temperature must be > 0, got {}", options_.temperature));
  for (const auto& spec : options_.taps) {
    const auto eq = spec.find('=');
    if (spec.empty() || eq == 0 || eq + 1 == spec.size())
      throw core::UserError(
          fmt::format("distillation tap \"{}\" must be a name or student_name=teacher_name", spec));
    pairs_.push_back(eq == std::string::npos ? std::pair{spec, spec}
                                             : std::pair{spec.substr(0, eq), spec.substr(eq + 1)});
  }
  if (options_.tap_weight > 0 && pairs_.empty())
    throw core::UserError("distillation: a tap weight needs taps to compare");
  model_->module().eval();
  for (auto& p : model_->module().parameters()) p.set_requires_grad(false);
}

nn::TapRecorder Teacher::student_taps() const {
  std::vector<std::string> names;
  for (const auto& [student, teacher] : pairs_) names.push_back(student);
  return nn::TapRecorder(names);
}

nn::TapRecorder Teacher::teacher_taps() const {
  std::vector<std::string> names;
  for (const auto& [student, teacher] : pairs_) names.push_back(teacher);
  return nn::TapRecorder(names);
}

torch::Tensor Teacher::loss(const torch::Tensor& task_loss_sum, const torch::Tensor& student_logits,
                            const torch::Tensor& teacher_logits,
                            const nn::TapRecorder& student_taps,
                            const nn::TapRecorder& teacher_taps, int64_t rows,
                            const torch::Tensor& logit_rows, const torch::Tensor& positions) const {
  const auto& o = options_;
  torch::Tensor total = task_loss_sum * o.task_weight;
  if (o.logit_weight > 0) {
    const torch::Tensor logit_term =
        student_logits.size(-1) == 1
            ? tap_mse(student_logits, teacher_logits)
            : soft_cross_entropy(student_logits, teacher_logits, o.temperature, logit_rows);
    total = total + logit_term * (o.logit_weight * static_cast<double>(rows));
  }
  if (o.tap_weight > 0) {
    torch::Tensor taps = torch::zeros({}, student_logits.options());
    for (const auto& [student, teacher] : pairs_) {
      if (!student_taps.values().count(student) || !teacher_taps.values().count(teacher))
        throw core::UserError(
            fmt::format("distillation: no tap named {} in the {}",
                        !student_taps.values().count(student) ? student : teacher,
                        !student_taps.values().count(student) ? "student" : "teacher"));
      taps = taps + tap_mse(student_taps.at(student), teacher_taps.at(teacher), positions);
    }
    total = total + taps * (o.tap_weight * static_cast<double>(rows));
  }
  return total;
}

}  // namespace slimformer::train
