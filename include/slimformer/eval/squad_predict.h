// Extractive QA predictions of a span encoder on SQuAD windows (data/squad_windows.h): the best
// span of each question is the highest start + end logit over spans of at most max_answer_length
// tokens that start at a token scored in its best-context window, across all its windows.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "slimformer/data/squad_windows.h"
#include "slimformer/models/encoder.h"

namespace slimformer::eval {

struct SquadPredictOptions {
  int64_t max_tokens = 4096;
  int64_t max_answer_length = 30;
  torch::Device device = torch::kCPU;
};

// Tokens per window, for batching.
std::vector<int64_t> window_lengths(const data::SquadFeatures& features);

// Start and end logits [B, T] of the windows `indices`, padding pushed out of reach; the padded
// tokens go to `tokens_out` when given; the encoder reports to `taps` when given.
models::SpanLogits window_logits(models::EncoderModelImpl& model,
                                 const data::SquadFeatures& features,
                                 const std::vector<int64_t>& indices, const torch::Device& device,
                                 torch::Tensor* tokens_out = nullptr, nn::Taps* taps = nullptr);

// The best span found so far for one question, in passage tokens (inclusive).
struct SpanChoice {
  double score = -1e30;
  int64_t first = -1, last = -1;
};

// Updates `best` with the spans of window `w` whose start and end logits (indexed by input
// position) are `start` and `end`: spans of at most max_answer_length tokens starting at a token
// scored in its best-context window.
void choose_span(const data::SquadWindow& w, const float* start, const float* end,
                 int64_t max_answer_length, SpanChoice& best);

// Answer text per question id from a span-QA encoder.
std::map<std::string, std::string> predict_squad(models::EncoderModelImpl& model,
                                                 const data::SquadFeatures& features,
                                                 const data::Tokenizer& tokenizer,
                                                 const SquadPredictOptions& options);

}  // namespace slimformer::eval
