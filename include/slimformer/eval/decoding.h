// Decoding for the encoder-decoder model: greedy search and beam search with a length
// penalty, both with the incremental key/value cache.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "slimformer/data/vocab.h"
#include "slimformer/models/seq2seq.h"

namespace slimformer::eval {

struct DecodeOptions {
  int64_t beam_size = 1;        // 1: greedy
  double length_penalty = 1.0;  // scores are divided by length^length_penalty
  int64_t max_length_a = 1;     // output at most a * source length + b tokens
  int64_t max_length_b = 10;
  int64_t max_tokens = 4000;  // tokens per batch when translating many sentences
};

// Token ids per sentence (without <s> and </s>) for a padded source batch [B, S].
std::vector<std::vector<int64_t>> greedy_search(models::Seq2SeqTransformerImpl& model,
                                                const torch::Tensor& src, int64_t max_length);
std::vector<std::vector<int64_t>> beam_search(models::Seq2SeqTransformerImpl& model,
                                              const torch::Tensor& src, int64_t max_length,
                                              int64_t beam_size, double length_penalty);
// The same from an encoder output computed earlier (reused while only the decoder changes).
std::vector<std::vector<int64_t>> greedy_search(models::Seq2SeqTransformerImpl& model,
                                                const models::EncoderOutput& encoded,
                                                int64_t max_length);
std::vector<std::vector<int64_t>> beam_search(models::Seq2SeqTransformerImpl& model,
                                              const models::EncoderOutput& encoded,
                                              int64_t max_length, int64_t beam_size,
                                              double length_penalty);

// Lines tokenized and grouped into length-sorted, padded source batches on a device.
struct SourceBatches {
  std::vector<std::vector<int64_t>> indices;  // line numbers per batch
  std::vector<torch::Tensor> src;             // [B, S] per batch
  std::vector<int64_t> max_length;            // output length limit per batch
  size_t lines = 0;
};
SourceBatches prepare_source_batches(const models::Seq2SeqTransformerImpl& model,
                                     const data::Vocab& vocab,
                                     const std::vector<std::string>& lines,
                                     const DecodeOptions& options, const torch::Device& device);

// Translates prepared batches; `encoded`, when given, holds each batch's encoder output.
std::vector<std::string> translate_batches(
    models::Seq2SeqTransformerImpl& model, const data::Vocab& vocab, const SourceBatches& batches,
    const DecodeOptions& options, const std::vector<models::EncoderOutput>* encoded = nullptr,
    const std::function<void(size_t, size_t)>& progress = {});

// Translates lines in length-sorted batches and returns them in input order.
// `progress(done, total)` is called after each batch when given.
std::vector<std::string> translate(models::Seq2SeqTransformerImpl& model, const data::Vocab& vocab,
                                   const std::vector<std::string>& lines,
                                   const DecodeOptions& options, const torch::Device& device,
                                   const std::function<void(size_t, size_t)>& progress = {});

}  // namespace slimformer::eval
