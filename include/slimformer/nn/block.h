// The block interface: what a Sublayer wraps. Attention of every kind and feed-forward blocks
// of every kind implement it, so a sublayer's block can be replaced by another kind.
#pragma once

#include <torch/torch.h>

#include <string>

namespace slimformer::nn {

// Cached keys and values of one attention block, [batch, heads, time, head_dim].
struct AttentionCache {
  torch::Tensor key;
  torch::Tensor value;
  bool defined() const { return key.defined(); }
  // Keeps the rows `order` (beam search reorders hypotheses every step).
  void reorder(const torch::Tensor& order);
};

// What a block may need besides its input.
struct BlockContext {
  torch::Tensor memory;             // encoder output, for cross-attention  [B, S, D]
  torch::Tensor self_mask;          // boolean, true = masked; broadcast to [B, H, T, T]
  torch::Tensor memory_mask;        // boolean, true = masked; broadcast to [B, H, T, S]
  AttentionCache* cache = nullptr;  // incremental decoding, when set
};

class BlockImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x, const BlockContext& context) = 0;
  // A short name of the block's kind for trees and reports ("softmax_attention", "ffn").
  virtual std::string kind() const = 0;
};

}  // namespace slimformer::nn
