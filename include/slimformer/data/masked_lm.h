// Masked-LM pre-training data (Devlin et al. 2019): consecutive lines packed into sentence pairs
// "[CLS] A [SEP] B [SEP]" with segment ids 0 and 1, and BERT's masking: each ordinary token is
// chosen with probability 0.15 (per token, as Hugging Face's collator does); a chosen token
// becomes [MASK] 80% of the time, a random token 10%, and stays 10%, and only chosen tokens are
// predicted. No next-sentence objective: B always follows A in the text.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace slimformer::data {

struct SegmentPair {
  std::vector<int64_t> tokens;    // [CLS] A [SEP] B [SEP] (B may be absent: [CLS] A [SEP])
  std::vector<int64_t> segments;  // 0 over [CLS] A [SEP], 1 over B [SEP]
};

struct SpecialIds {
  int64_t pad = 0, cls = 0, sep = 0, mask = 0;
};

// Packs consecutive lines (already encoded) into pairs of at most `max_length` tokens: lines are
// gathered until they fill the pair, then split at a line boundary drawn with `seed` into A and
// B. A line too long for a pair is first split into pieces of half a pair, so no token is lost.
std::vector<SegmentPair> make_segment_pairs(const std::vector<std::vector<int64_t>>& lines,
                                            int64_t max_length, const SpecialIds& special,
                                            uint64_t seed);

struct PairBatch {
  torch::Tensor tokens, segments;  // [B, T], padded with `pad` and segment 0
};

// The given pairs as one padded batch on the CPU.
PairBatch pad_pairs(const std::vector<const SegmentPair*>& rows, int64_t pad);

// Token count of each pair, for batching by tokens.
std::vector<int64_t> pair_lengths(const std::vector<SegmentPair>& pairs);

struct MaskedBatch {
  torch::Tensor tokens;    // [B, T] with masking applied, padded
  torch::Tensor segments;  // [B, T]
  torch::Tensor targets;   // [B, T]: the original token where one is to be predicted, else pad
};

// The pairs `indices`, padded and masked with a generator seeded by `seed` (so a batch's masking
// is reproducible). Random replacements are drawn from the ids in [0, vocab_size) that are not
// special.
MaskedBatch mask_batch(const std::vector<SegmentPair>& pairs, const std::vector<int64_t>& indices,
                       const SpecialIds& special, int64_t vocab_size, double probability,
                       uint64_t seed);

}  // namespace slimformer::data
