// Perplexity of a causal LM on running text. The text is one token stream (each line's tokens
// followed by the tokenizer's line end), scored in consecutive windows of `context` tokens; each
// window starts with BOS, so every token of the stream is predicted exactly once, from the
// tokens before it in its window.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "slimformer/data/tokenizer.h"
#include "slimformer/models/causal_lm.h"

namespace slimformer::eval {

struct PerplexityOptions {
  int64_t context = 0;     // tokens per window; 0: the model's max_position_embeddings - 1
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

// The token stream of `lines` (each line encoded, then the line end).
std::vector<int64_t> token_stream(const data::Tokenizer& tokenizer,
                                  const std::vector<std::string>& lines);
// Words of `lines` counted as word-level perplexity counts them.
int64_t count_words(const std::vector<std::string>& lines);

PerplexityResult perplexity(models::CausalLMImpl& model, const std::vector<int64_t>& stream,
                            const PerplexityOptions& options);

}  // namespace slimformer::eval
