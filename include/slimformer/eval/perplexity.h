// Perplexity of a causal LM on running text: one token stream (data::token_stream) scored in
// consecutive windows of `context` tokens (data::make_window_batch), so every token of the stream
// is predicted exactly once, from the tokens before it in its window.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "slimformer/data/tokenizer.h"
#include "slimformer/models/causal_lm.h"

namespace slimformer::eval {

struct PerplexityOptions {
  int64_t context = 0;     // tokens per window; 0: the model's max_position_embeddings
  int64_t batch_size = 8;  // windows per forward pass
  std::function<void(int64_t done, int64_t total)> on_progress;  // windows scored
};

struct PerplexityResult {
  double nll_sum = 0;  // natural-log loss summed over predicted tokens
  int64_t tokens = 0;  // predicted tokens
  int64_t words = 0;   // whitespace-separated words plus one per line end, as word-level LM
                       // benchmarks count them
  double loss() const { return tokens ? nll_sum / tokens : 0; }
  double perplexity() const;       // per token
  double word_perplexity() const;  // per word: exp(nll_sum / words)
};

// Words of `lines` counted as word-level perplexity counts them.
int64_t count_words(const std::vector<std::string>& lines);

PerplexityResult perplexity(models::CausalLMImpl& model, const std::vector<int64_t>& stream,
                            const PerplexityOptions& options);

}  // namespace slimformer::eval
