// DeFormer (Cao et al. 2020): in an encoder fine-tuned on a pair task, the layers below k run on
// each segment alone (question and passage, or the two sentences) and only the layers from k up
// on the pair (models/encoder.h, config.separate_layers). A passage's layer-k states then do not
// depend on the question, so they can be computed once and cached (passage_cache.h); serving a
// question costs the lower layers on the question alone plus the upper layers on the pair.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slimformer/data/text_task.h"
#include "slimformer/models/encoder.h"

namespace slimformer::methods {

// Refuses what cannot be decomposed, naming the flag or the model:
//   "--k 5 is outside [0, 4], the encoder's layers";
//   "decompose needs an encoder with a pair input (a span head, or a classification head
//   fine-tuned on a sentence-pair task); <model_name> is ...".
// `task` is a classification encoder's recorded task (null when unknown: refused).
void check_decomposable(const models::TransformerConfig& config, int64_t k,
                        const data::TextTask* task, const std::string& model_name);

// The taps of the layer-wise similarity loss: the state after every layer from k up
// ("encoder.layers.<i>"), compared with the same layer of the original model.
std::vector<std::string> upper_layer_taps(const models::TransformerConfig& config, int64_t k);

// Where a cached passage's first token sits when its lower layers run: after a question segment
// of the longest question ([CLS] question [SEP]). With rotary positions the lower layers see only
// distances within the passage, so its states hold wherever it then sits; with absolute
// positions the question segment is padded to this length when the cache is used.
int64_t passage_start(int64_t max_query_length);
bool position_invariant(const models::TransformerConfig& config);

// The layer-k states [B, S, D] of segments run alone: tokens [B, S] (padding allowed at the end),
// all of segment id `segment`, the first at position `start`.
torch::Tensor segment_states(models::EncoderModelImpl& model, const torch::Tensor& tokens,
                             int64_t segment, int64_t start);

// Start and end logits [W, Q + P] of the upper layers over one question segment's states
// [1, Q, D] (its tokens [1, Q]) joined with each of W passage windows' states [W, P, D] (tokens
// [W, P], padded at the end); padding is pushed out of reach.
models::SpanLogits joined_span_logits(models::EncoderModelImpl& model,
                                      const torch::Tensor& question_tokens,
                                      const torch::Tensor& question_states,
                                      const torch::Tensor& passage_tokens,
                                      const torch::Tensor& passage_states);

}  // namespace slimformer::methods
