// Text generation with a causal LM: the prompt runs through the model once, then one token per
// step with the key/value cache. Greedy at temperature 0; otherwise sampling from the
// temperature-scaled distribution, optionally cut to the top k tokens and to the smallest set
// whose probability reaches top_p (nucleus sampling). With a beam size above 1, beam search with a
// length penalty (eval/beam_search.h) instead: a stop id ends a hypothesis.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "slimformer/data/tokenizer.h"
#include "slimformer/models/causal_lm.h"

namespace slimformer::eval {

struct GenerateOptions {
  int64_t max_new_tokens = 256;
  double temperature = 0.0;  // 0: greedy
  int64_t top_k = 0;         // 0: all tokens
  double top_p = 1.0;        // 1: no nucleus cut
  uint64_t seed = 0;
  int64_t beam_size = 1;          // > 1: beam search (temperature must be 0)
  double length_penalty = 1.0;    // beam search: scores are divided by length^length_penalty
  std::vector<int64_t> stop_ids;  // generation ends before any of these
};

// The new token ids after `prompt` (which must not be empty; it starts with BOS for most models).
// `on_token` sees each token as it is produced (with beam search, the best hypothesis's tokens
// once it is chosen).
std::vector<int64_t> generate(models::CausalLMImpl& model, const std::vector<int64_t>& prompt,
                              const GenerateOptions& options,
                              const std::function<void(int64_t)>& on_token = {});

// Continues `prompt` (text) the way the program does: BOS, the prompt's tokens, generation
// stopping before BOS or EOS (added to options.stop_ids). Returns the prompt with its
// continuation, decoded; `on_text` sees the decoded text each time a token is produced.
std::string continue_prompt(models::CausalLMImpl& model, const data::Tokenizer& tokenizer,
                            const std::string& prompt, GenerateOptions options,
                            const std::function<void(const std::string&)>& on_text = {});

// Picks the next token from logits [V] as `generate` does; `uniform` is a draw in [0, 1).
int64_t pick_token(const torch::Tensor& logits, const GenerateOptions& options, double uniform);

}  // namespace slimformer::eval
