#include "slimformer/tasks/glue_task.h"

#include "slimformer/train/checkpoint.h"

namespace slimformer::tasks {

torch::Tensor glue_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  if (logits.size(1) == 1) return torch::mse_loss(logits.squeeze(1), labels);
  return torch::nn::functional::cross_entropy(logits, labels.to(torch::kLong));
}

train::LossValue glue_loss_value(const torch::Tensor& logits, const eval::GlueBatch& batch,
                                 int64_t pad) {
  const int64_t n = batch.labels.size(0);
  torch::Tensor loss = glue_loss(logits, batch.labels);
  return {loss * static_cast<double>(n), loss.item<double>() * n, n,
          batch.tokens.ne(pad).sum().item<int64_t>()};
}

GlueFinetuneTask::GlueFinetuneTask(models::EncoderModel model,
                                   std::shared_ptr<data::Tokenizer> tokenizer, core::TensorMap init,
                                   data::TextTask task, eval::EncodedGlue train,
                                   eval::EncodedGlue dev, GlueTaskOptions options)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      init_(std::move(init)),
      task_(std::move(task)),
      train_(std::move(train)),
      dev_(std::move(dev)),
      options_(std::move(options)) {
  primary_ = eval::glue_score(task_, dev_.labels, dev_.labels).primary;
  batches_ = train::token_budget_batches(data::pair_lengths(train_.inputs), options_.max_tokens,
                                         options_.seed);
}

int64_t GlueFinetuneTask::num_batches(int64_t epoch) { return batches_.at(epoch).size(); }

train::LossValue GlueFinetuneTask::batch_loss(int64_t epoch, int64_t index) {
  const auto& indices = batches_.at(epoch).at(index);
  const int64_t pad = model_->config().pad_token_id;
  auto b = eval::glue_batch(train_, indices, pad, options_.device);
  if (!options_.teacher)
    return glue_loss_value(model_->classify(model_->encode(b.tokens, b.segments)), b, pad);
  // The trainer normalizes by the count it is given: examples here, not tokens.
  const int64_t n = static_cast<int64_t>(indices.size());
  const int64_t tokens = b.tokens.ne(pad).sum().item<int64_t>();
  auto& teacher = *options_.teacher;
  auto student_taps = teacher.student_taps(), teacher_taps = teacher.teacher_taps();
  torch::Tensor logits = model_->classify(model_->encode(b.tokens, b.segments, &student_taps));
  torch::Tensor teacher_logits;
  {
    torch::NoGradGuard no_grad;
    auto& t = teacher.model_as<models::EncoderModelImpl>();
    teacher_logits = t.classify(t.encode(b.tokens, b.segments, &teacher_taps));
  }
  torch::Tensor task = glue_loss(logits, b.labels) * static_cast<double>(n);
  return {teacher.loss(task, logits, teacher_logits, student_taps, teacher_taps, n, {},
                       b.tokens.ne(pad)),
          task.item<double>(), n, tokens};
}

train::Metrics GlueFinetuneTask::validate() {
  auto score = eval::glue_score(
      task_, eval::predict_glue(*model_, dev_, options_.max_tokens, options_.device), dev_.labels);
  return {score.metrics.begin(), score.metrics.end()};
}

void GlueFinetuneTask::write_model(const std::filesystem::path& dir, const nlohmann::json& record) {
  train::write_model_files(dir, *model_, init_, *tokenizer_, record);
}

}  // namespace slimformer::tasks
