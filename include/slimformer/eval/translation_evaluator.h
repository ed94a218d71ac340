// ModelEvaluator for translation models: BLEU or chrF of greedy (or beam) decoding, or
// teacher-forced loss / perplexity, on a fixed set of sentence pairs. While only decoder sublayers
// differ from the reference state, the encoder's outputs are computed once and reused.
#pragma once

#include "slimformer/data/parallel_corpus.h"
#include "slimformer/eval/decoding.h"
#include "slimformer/eval/model_evaluator.h"

namespace slimformer::eval {

// The metrics a translation model can be scored by.
const std::vector<std::string>& translation_metrics();

class TranslationEvaluator : public ModelEvaluator {
 public:
  // `metric` is one of translation_metrics(); a UserError names the others otherwise.
  TranslationEvaluator(models::Seq2SeqTransformerImpl& model, const data::Vocab& vocab,
                       data::ParallelText text, std::string metric, DecodeOptions decode,
                       torch::Device device, int64_t max_tokens = 4096);

  std::string metric() const override { return metric_; }
  bool higher_is_better() const override { return decodes(); }
  double evaluate(const std::vector<std::string>& changed) override;
  size_t examples() const override { return text_.source.size(); }

 private:
  // Encoder outputs per batch, computed at the reference state on first use.
  const std::vector<models::EncoderOutput>* reusable_encoding(
      const std::vector<std::string>& changed, const std::vector<torch::Tensor>& sources,
      std::vector<models::EncoderOutput>& cache);
  // BLEU and chrF are scored on decoded text; loss and perplexity teacher-forced.
  bool decodes() const { return metric_ == "bleu" || metric_ == "chrf"; }
  double bleu(const std::vector<std::string>& changed);
  double loss(const std::vector<std::string>& changed);

  models::Seq2SeqTransformerImpl& model_;
  const data::Vocab& vocab_;
  data::ParallelText text_;
  std::string metric_;
  DecodeOptions decode_;
  SourceBatches source_batches_;
  std::vector<data::TranslationBatch> loss_batches_;
  std::vector<torch::Tensor> loss_sources_;  // loss_batches_[i].src, as reusable_encoding takes
  std::vector<models::EncoderOutput> decode_encoding_, loss_encoding_;
};

}  // namespace slimformer::eval
