// Training task for translation: token-bucketed batches of a parallel corpus, label-smoothed
// cross entropy, and validation by loss and BLEU (greedy decoding of a validation subset).
#pragma once

#include "slimformer/data/parallel_corpus.h"
#include "slimformer/eval/decoding.h"
#include "slimformer/models/seq2seq.h"
#include "slimformer/train/epoch_batches.h"
#include "slimformer/train/trainer.h"

namespace slimformer::tasks {

struct TranslationTaskOptions {
  int64_t max_tokens = 4096;  // per batch, counting padding
  double label_smoothing = 0.1;
  int64_t bleu_samples = 500;  // validation sentences decoded for BLEU; 0: loss only
  eval::DecodeOptions decode;  // how validation BLEU decodes
  int64_t seed = 1;
  torch::Device device = torch::kCPU;
};

// Loss and BLEU of a model on a tokenized validation set and its raw text.
train::Metrics evaluate_translation(models::Seq2SeqTransformerImpl& model, const data::Vocab& vocab,
                                    const data::TokenizedPairs& pairs,
                                    const data::ParallelText& text,
                                    const TranslationTaskOptions& options);

class TranslationTask : public train::TrainingTask {
 public:
  TranslationTask(models::Seq2SeqTransformer model, data::Vocab vocab, core::TensorMap init,
                  data::TokenizedPairs train, data::TokenizedPairs valid,
                  data::ParallelText valid_text, TranslationTaskOptions options);

  models::ModelTree& model() override { return *model_; }
  int64_t num_batches(int64_t epoch) override;
  train::LossValue batch_loss(int64_t epoch, int64_t index) override;
  train::Metrics validate() override;
  std::string primary_metric() const override {
    return options_.bleu_samples > 0 ? "bleu" : "loss";
  }
  bool higher_is_better() const override { return options_.bleu_samples > 0; }
  void write_model(const std::filesystem::path& dir, const nlohmann::json& record) override;

 private:
  models::Seq2SeqTransformer model_;
  data::Vocab vocab_;
  core::TensorMap init_;
  data::TokenizedPairs train_, valid_;
  data::ParallelText valid_text_;
  TranslationTaskOptions options_;
  train::EpochBatches batches_;
};

}  // namespace slimformer::tasks
