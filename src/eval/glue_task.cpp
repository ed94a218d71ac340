#include "slimformer/eval/glue_task.h"

#include "slimformer/data/parallel_corpus.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::eval {

namespace {

struct GlueBatch {
  torch::Tensor tokens, segments, labels;
};

GlueBatch make_batch(const EncodedGlue& data, const std::vector<int64_t>& indices, int64_t pad,
                     const torch::Device& device) {
  std::vector<const data::SegmentPair*> rows;
  std::vector<double> labels;
  for (int64_t i : indices) rows.push_back(&data.inputs[i]), labels.push_back(data.labels[i]);
  auto padded = data::pad_pairs(rows, pad);
  return {padded.tokens.to(device), padded.segments.to(device),
          torch::tensor(labels, torch::kFloat64).to(torch::kFloat32).to(device)};
}

// Mean loss of a batch: cross entropy over classes, or squared error for regression.
torch::Tensor glue_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  if (logits.size(1) == 1) return torch::mse_loss(logits.squeeze(1), labels);
  return torch::nn::functional::cross_entropy(logits, labels.to(torch::kLong));
}

}  // namespace

EncodedGlue encode_glue(const std::vector<data::GlueExample>& examples,
                        const data::Tokenizer& tokenizer, int64_t max_length) {
  EncodedGlue out;
  for (const auto& e : examples) {
    auto a = tokenizer.encode(e.text_a);
    auto b = e.text_b.empty() ? std::vector<int64_t>{} : tokenizer.encode(e.text_b);
    const int64_t budget = max_length - (b.empty() ? 2 : 3);
    while (static_cast<int64_t>(a.size() + b.size()) > budget)
      (a.size() >= b.size() ? a : b).pop_back();
    data::SegmentPair p;
    p.tokens.push_back(tokenizer.bos_id());
    p.tokens.insert(p.tokens.end(), a.begin(), a.end());
    p.tokens.push_back(tokenizer.eos_id());
    p.segments.assign(p.tokens.size(), 0);
    if (!e.text_b.empty()) {
      p.tokens.insert(p.tokens.end(), b.begin(), b.end());
      p.tokens.push_back(tokenizer.eos_id());
      p.segments.resize(p.tokens.size(), 1);
    }
    out.inputs.push_back(std::move(p));
    out.labels.push_back(e.label);
  }
  return out;
}

std::vector<double> predict_glue(models::EncoderModelImpl& model, const EncodedGlue& data,
                                 int64_t max_tokens, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<double> predictions(data.inputs.size());
  for (const auto& indices :
       data::batch_by_tokens(data::pair_lengths(data.inputs), max_tokens, false, 0)) {
    auto b = make_batch(data, indices, model.config().pad_token_id, device);
    torch::Tensor logits = model.classify(model.encode(b.tokens, b.segments)).to(torch::kCPU);
    torch::Tensor values = logits.size(1) == 1 ? logits.squeeze(1).to(torch::kFloat64)
                                               : logits.argmax(1).to(torch::kFloat64);
    for (size_t r = 0; r < indices.size(); ++r) predictions[indices[r]] = values[r].item<double>();
  }
  model.train(was_training);
  return predictions;
}

GlueFinetuneTask::GlueFinetuneTask(models::EncoderModel model,
                                   std::shared_ptr<data::Tokenizer> tokenizer, core::TensorMap init,
                                   data::GlueTaskInfo task, EncodedGlue train, EncodedGlue dev,
                                   GlueTaskOptions options)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      init_(std::move(init)),
      task_(std::move(task)),
      train_(std::move(train)),
      dev_(std::move(dev)),
      options_(std::move(options)) {
  primary_ = glue_score(task_, dev_.labels, dev_.labels).primary;
  batches_ = train::token_budget_batches(data::pair_lengths(train_.inputs), options_.max_tokens,
                                         options_.seed);
}

int64_t GlueFinetuneTask::num_batches(int64_t epoch) { return batches_.at(epoch).size(); }

train::LossValue GlueFinetuneTask::batch_loss(int64_t epoch, int64_t index) {
  const auto& indices = batches_.at(epoch).at(index);
  auto b = make_batch(train_, indices, model_->config().pad_token_id, options_.device);
  torch::Tensor loss = glue_loss(model_->classify(model_->encode(b.tokens, b.segments)), b.labels);
  const int64_t n = static_cast<int64_t>(indices.size());
  // The trainer normalizes by the count it is given: examples here, not tokens.
  return {loss * static_cast<double>(n), loss.item<double>() * n, n,
          b.tokens.ne(model_->config().pad_token_id).sum().item<int64_t>()};
}

train::Metrics GlueFinetuneTask::validate() {
  auto score = glue_score(task_, predict_glue(*model_, dev_, options_.max_tokens, options_.device),
                          dev_.labels);
  return {score.metrics.begin(), score.metrics.end()};
}

void GlueFinetuneTask::write_model(const std::filesystem::path& dir, const nlohmann::json& record) {
  train::write_model_files(dir, *model_, init_, *tokenizer_, record);
}

}  // namespace slimformer::eval
