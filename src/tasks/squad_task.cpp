#include "slimformer/tasks/squad_task.h"

#include "slimformer/train/checkpoint.h"

namespace slimformer::tasks {

SquadFinetuneTask::SquadFinetuneTask(models::EncoderModel model,
                                     std::shared_ptr<data::Tokenizer> tokenizer,
                                     core::TensorMap init, data::SquadFeatures train,
                                     data::SquadDataset valid, data::SquadFeatures valid_features,
                                     SquadTaskOptions options)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      init_(std::move(init)),
      train_(std::move(train)),
      valid_(std::move(valid)),
      valid_features_(std::move(valid_features)),
      options_(std::move(options)),
      batches_(train::token_budget_batches(eval::window_lengths(train_), options_.max_tokens,
                                           options_.seed)) {}

train::LossValue SquadFinetuneTask::batch_loss(int64_t epoch, int64_t index) {
  const auto& indices = batches_.at(epoch).at(index);
  torch::Tensor tokens;
  const auto& teacher = options_.teacher;
  nn::TapRecorder student_taps({}), teacher_taps({});
  if (teacher) student_taps = teacher->student_taps(), teacher_taps = teacher->teacher_taps();
  auto logits = eval::window_logits(*model_, train_, indices, options_.device, &tokens,
                                    teacher ? &student_taps : nullptr);
  std::vector<int64_t> starts, ends;
  for (int64_t i : indices)
    starts.push_back(train_.windows[i].start), ends.push_back(train_.windows[i].end);
  auto target = [&](const std::vector<int64_t>& v) {
    return torch::tensor(v, torch::kLong).to(options_.device);
  };
  namespace F = torch::nn::functional;
  torch::Tensor loss = (F::cross_entropy(logits.start, target(starts)) +
                        F::cross_entropy(logits.end, target(ends))) /
                       2;
  const int64_t n = static_cast<int64_t>(indices.size());
  const torch::Tensor real = tokens.ne(model_->config().pad_token_id);
  // Normalized per window, as GLUE fine-tuning is per example.
  const torch::Tensor task = loss * static_cast<double>(n);
  if (!teacher) return {task, loss.item<double>() * n, n, real.sum().item<int64_t>()};
  models::SpanLogits teacher_logits;
  {
    torch::NoGradGuard no_grad;
    teacher_logits = eval::window_logits(teacher->model_as<models::EncoderModelImpl>(), train_,
                                         indices, options_.device, nullptr, &teacher_taps);
  }
  // The start and the end distributions over the window's positions, distilled alike.
  return {teacher->loss(task, torch::stack({logits.start, logits.end}, 1),
                        torch::stack({teacher_logits.start, teacher_logits.end}, 1), student_taps,
                        teacher_taps, n, {}, real),
          loss.item<double>() * n, n, real.sum().item<int64_t>()};
}

train::Metrics SquadFinetuneTask::validate() {
  auto score = eval::squad_score(
      valid_, eval::predict_squad(*model_, valid_features_, *tokenizer_, options_));
  return {{"exact_match", score.exact_match}, {"f1", score.f1}};
}

void SquadFinetuneTask::write_model(const std::filesystem::path& dir,
                                    const nlohmann::json& record) {
  train::write_model_files(dir, *model_, init_, *tokenizer_, record);
}

}  // namespace slimformer::tasks
