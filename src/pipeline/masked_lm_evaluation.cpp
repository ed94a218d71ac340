#include "slimformer/pipeline/masked_lm_evaluation.h"

#include <fmt/format.h>

#include <algorithm>

#include "slimformer/core/error.h"
#include "slimformer/pipeline/pretrain_corpus.h"
#include "slimformer/pipeline/run_record.h"
#include "slimformer/tasks/masked_lm_task.h"

namespace slimformer::pipeline {

namespace {

// Masked-token accuracy, loss and perplexity over fixed sentence pairs, masked as pre-training's
// validation masks them.
class MaskedLMEvaluator : public eval::ModelEvaluator {
 public:
  MaskedLMEvaluator(const train::LoadedModel& m, std::vector<data::SegmentPair> pairs,
                    std::string metric, int64_t max_tokens, torch::Device device)
      : metric_(std::move(metric)),
        examples_(pairs.size()),
        task_(models::EncoderModel(std::dynamic_pointer_cast<models::EncoderModelImpl>(m.model)),
              m.tokenizer, {}, {}, std::move(pairs), task_options(max_tokens, device)) {}

  std::string metric() const override { return metric_; }
  bool higher_is_better() const override { return metric_ == "accuracy"; }
  double evaluate(const std::vector<std::string>&) override {
    details_ = task_.validate();
    return details_.at(metric_);
  }
  size_t examples() const override { return examples_; }
  std::string summary() const override {
    return fmt::format("masked LM: accuracy {:.4f} loss {:.3f}", details_.at("accuracy"),
                       details_.at("loss"));
  }

 private:
  static tasks::MaskedLMTaskOptions task_options(int64_t max_tokens, torch::Device device) {
    tasks::MaskedLMTaskOptions options;
    options.max_tokens = max_tokens;
    options.device = device;
    return options;
  }
  std::string metric_;
  size_t examples_;
  tasks::MaskedLMTask task_;
};

struct HeldOutPairs {
  std::vector<data::SegmentPair> pairs;
  int64_t max_tokens = 4096;  // the run's batches, which decide each pair's masking
};

// The held-out pairs of the text the encoder's record says it was pre-trained (or distilled) on:
// the last data.valid_pairs of data.train_text, batched as the run batched them, so a run of seed
// 1 scores as its own validation did. Pairs are split with seed 1 whatever the run's seed, so
// that runs of several seeds are scored on the same pairs.
HeldOutPairs recorded_held_out_pairs(const train::LoadedModel& m, const std::string& name) {
  const auto recorded = recorded_masked_lm_text(m.record, name);
  if (recorded.files.empty() || !recorded.valid_pairs)
    throw core::UserError(
        fmt::format("{} records no pre-training text to score it on: give --text FILE", name));
  const int64_t positions = m.model->config().max_position_embeddings;
  const int64_t max_length =
      recorded.max_length > 0 ? std::min(positions, recorded.max_length) : positions;
  auto pairs = masked_lm_pairs(*m.tokenizer, read_pretrain_corpus(recorded.files), max_length, 1);
  const int64_t held_out = *recorded.valid_pairs;
  if (held_out <= 0 || held_out > int64_t(pairs.size()))
    throw core::UserError(fmt::format("{}: options.data.valid_pairs {} is not in [1, {}]", name,
                                      held_out, pairs.size()));
  return {{pairs.end() - held_out, pairs.end()}, std::max(recorded.max_tokens, max_length)};
}

}  // namespace

std::unique_ptr<eval::ModelEvaluator> masked_lm_evaluator(const train::LoadedModel& m,
                                                          const EvaluationOptions& o,
                                                          const std::string& name) {
  const std::string metric = o.metric.empty() ? "accuracy" : o.metric;
  if (metric != "accuracy" && metric != "loss" && metric != "ppl")
    throw core::UserError(
        fmt::format("--metric {}: a masked-LM encoder is scored by accuracy, loss or ppl", metric));
  const int64_t positions = m.model->config().max_position_embeddings;
  auto [pairs, max_tokens] =
      o.text.empty() ? recorded_held_out_pairs(m, name)
                     : HeldOutPairs{masked_lm_pairs(*m.tokenizer, read_pretrain_corpus({o.text}),
                                                    positions, 1),
                                    std::max(o.max_tokens, positions)};
  if (o.samples > 0 && size_t(o.samples) < pairs.size()) pairs.resize(o.samples);
  if (pairs.empty()) throw core::UserError(fmt::format("--text {}: no text", o.text));
  return std::make_unique<MaskedLMEvaluator>(m, std::move(pairs), metric, max_tokens, o.device);
}

}  // namespace slimformer::pipeline
