// Beam search with a length penalty over any model that scores the next token of a batch of rows:
// a translation decoder over a batch of sources, a language model continuing a prompt. Rows
// a * k .. a * k + k - 1 hold the k hypotheses of the a-th sequence still searched; the model's
// side (its decoding state, what each row attends to) lives behind BeamScorer.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "slimformer/nn/block.h"

namespace slimformer::eval {

class BeamScorer {
 public:
  virtual ~BeamScorer() = default;
  // Log-probabilities [rows, V] (float32) of the token after `last` [rows, 1]; tokens a model
  // must never produce are -inf.
  virtual torch::Tensor next_log_probs(const torch::Tensor& last) = 0;
  // Keeps the rows `order`: rows of the same sequence (kWithinSource), or with the rows of
  // finished sequences left out (kAny).
  virtual void reorder(const torch::Tensor& order, nn::Reorder scope) = 0;
};

struct BeamOptions {
  int64_t beam_size = 5;
  int64_t max_length = 1;           // tokens per hypothesis at most
  double length_penalty = 1.0;      // scores are divided by length^length_penalty
  int64_t start_token = 0;          // the `last` token of the first step
  std::vector<int64_t> end_tokens;  // end a hypothesis (none: every one runs to max_length)
};

// The best hypothesis of each of `sequences` sequences, its tokens without the end token.
// `scorer` starts with sequences * beam_size rows.
std::vector<std::vector<int64_t>> beam_search(BeamScorer& scorer, int64_t sequences,
                                              const BeamOptions& options,
                                              const torch::Device& device);

// Whether to drop finished rows from a batch now: dropping copies every state, so it waits until
// a quarter of the rows (at least one) are finished ones still computed for nothing.
inline bool worth_dropping(size_t finished_rows, size_t rows) {
  return finished_rows > 0 && 4 * finished_rows >= rows;
}

}  // namespace slimformer::eval
