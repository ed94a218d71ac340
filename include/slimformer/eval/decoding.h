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

// Translates lines in length-sorted batches and returns them in input order.
// `progress(done, total)` is called after each batch when given.
std::vector<std::string> translate(models::Seq2SeqTransformerImpl& model, const data::Vocab& vocab,
                                   const std::vector<std::string>& lines,
                                   const DecodeOptions& options, const torch::Device& device,
                                   const std::function<void(size_t, size_t)>& progress = {});

}  // namespace slimformer::eval
