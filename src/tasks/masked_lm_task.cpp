#include "slimformer/tasks/masked_lm_task.h"

#include <fmt/format.h>

#include <cmath>

#include "slimformer/core/error.h"
#include "slimformer/data/parallel_corpus.h"
#include "slimformer/train/checkpoint.h"
#include "slimformer/train/loss.h"

namespace slimformer::tasks {

namespace {

constexpr uint64_t kValidationMaskSeed = 12345;

struct MaskedPrediction {
  torch::Tensor logits, targets;
};

// The vocabulary projection is a step's largest product; like BERT, apply it only where a token
// is to be predicted (same loss, fewer FLOPs).
MaskedPrediction predict_masked(models::EncoderModelImpl& model, const data::MaskedBatch& b,
                                int64_t pad, nn::Taps* taps = nullptr) {
  torch::Tensor chosen = b.targets.ne(pad);
  torch::Tensor hidden = model.encode(b.tokens, b.segments, taps).index({chosen});
  return {model.mlm_logits(hidden), b.targets.index({chosen})};
}

}  // namespace

data::SpecialIds MaskedLMTask::special_ids(const data::Tokenizer& tokenizer) {
  if (tokenizer.mask_id() < 0 || tokenizer.pad_id() < 0)
    throw core::UserError(fmt::format(
        "{}: the vocabulary has no mask or padding token; masked-LM pre-training needs both "
        "(a WordPiece vocab.txt, or a sentencepiece model trained by pretrain)",
        tokenizer.path()));
  return {tokenizer.pad_id(), tokenizer.bos_id(), tokenizer.eos_id(), tokenizer.mask_id()};
}

MaskedLMTask::MaskedLMTask(models::EncoderModel model, std::shared_ptr<data::Tokenizer> tokenizer,
                           core::TensorMap init, std::vector<data::SegmentPair> train,
                           std::vector<data::SegmentPair> valid, MaskedLMTaskOptions options)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      init_(std::move(init)),
      train_(std::move(train)),
      valid_(std::move(valid)),
      options_(std::move(options)),
      special_(special_ids(*tokenizer_)),
      batches_(train::token_budget_batches(data::pair_lengths(train_), options_.max_tokens,
                                           options_.seed)) {}

int64_t MaskedLMTask::num_batches(int64_t epoch) { return batches_.at(epoch).size(); }

data::MaskedBatch MaskedLMTask::batch(const std::vector<data::SegmentPair>& pairs,
                                      const std::vector<int64_t>& indices, uint64_t seed) const {
  auto b = data::mask_batch(pairs, indices, special_, model_->config().vocab_size,
                            options_.mask_probability, seed);
  return {b.tokens.to(options_.device), b.segments.to(options_.device),
          b.targets.to(options_.device)};
}

train::LossValue MaskedLMTask::batch_loss(int64_t epoch, int64_t index) {
  const uint64_t seed = batches_.epoch_seed(epoch) * 1000003u + uint64_t(index);
  auto b = batch(train_, batches_.at(epoch).at(index), seed);
  const auto& teacher = options_.teacher;
  nn::TapRecorder student_taps({}), teacher_taps({});
  if (teacher) student_taps = teacher->student_taps(), teacher_taps = teacher->teacher_taps();
  auto p = predict_masked(*model_, b, special_.pad, teacher ? &student_taps : nullptr);
  auto loss = train::label_smoothed_cross_entropy(p.logits, p.targets, 0.0, special_.pad);
  const torch::Tensor real = b.tokens.ne(special_.pad);
  if (!teacher)
    return {loss.loss_sum, loss.nll_sum.item<double>(), loss.tokens, real.sum().item<int64_t>()};
  MaskedPrediction taught;
  {
    torch::NoGradGuard no_grad;
    taught = predict_masked(teacher->model_as<models::EncoderModelImpl>(), b, special_.pad,
                            &teacher_taps);
  }
  return {teacher->loss(loss.loss_sum, p.logits, taught.logits, student_taps, teacher_taps,
                        loss.tokens, {}, real),
          loss.nll_sum.item<double>(), loss.tokens, real.sum().item<int64_t>()};
}

train::Metrics MaskedLMTask::validate() {
  torch::NoGradGuard no_grad;
  const bool was_training = model_->is_training();
  model_->eval();
  double nll = 0, correct = 0;
  int64_t tokens = 0;
  uint64_t seed = kValidationMaskSeed;
  for (const auto& indices :
       data::batch_by_tokens(data::pair_lengths(valid_), options_.max_tokens, false, 0)) {
    auto b = batch(valid_, indices, seed++);
    auto p = predict_masked(*model_, b, special_.pad);
    auto loss = train::label_smoothed_cross_entropy(p.logits, p.targets, 0.0, special_.pad);
    nll += loss.nll_sum.item<double>();
    tokens += loss.tokens;
    correct += p.logits.argmax(-1).eq(p.targets).sum().item<double>();
  }
  model_->train(was_training);
  const double mean = nll / std::max<int64_t>(tokens, 1);
  return {{"loss", mean},
          {"ppl", std::exp(mean)},
          {"accuracy", correct / std::max<int64_t>(tokens, 1)}};
}

void MaskedLMTask::write_model(const std::filesystem::path& dir, const nlohmann::json& record) {
  train::write_model_files(dir, *model_, init_, *tokenizer_, record);
}

}  // namespace slimformer::tasks
