// Attention blocks. Softmax multi-head attention (Vaswani et al. 2017), used as self-attention
// (queries, keys and values from the input) or cross-attention (keys and values from the encoder
// memory), with an optional key/value cache for incremental decoding.
#pragma once

#include "slimformer/nn/block.h"

namespace slimformer::nn {

struct AttentionOptions {
  int64_t embed_dim = 512;
  int64_t num_heads = 8;
  double dropout = 0.0;       // on the attention weights
  bool cross = false;         // keys and values from BlockContext::memory
  bool causal = false;        // self-attention that may not look ahead
  int64_t num_kv_heads = 0;   // key/value heads; 0: num_heads. Must divide num_heads.
  bool bias = true;           // biases on the four projections
  double rotary_theta = 0.0;  // > 0: rotary positions with this base on queries and keys
};

class SoftmaxAttentionImpl : public BlockImpl {
 public:
  explicit SoftmaxAttentionImpl(const AttentionOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const BlockContext& context) override;
  std::string kind() const override {
    return options_.cross ? "cross_attention" : "self_attention";
  }
  const AttentionOptions& options() const { return options_; }

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};

 private:
  // [B, T, heads * hd] -> [B, heads, T, hd]
  torch::Tensor split_heads(const torch::Tensor& x, int64_t heads) const;
  int64_t kv_heads() const;
  AttentionOptions options_;
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(SoftmaxAttention);

// Boolean mask [queries, keys], true where a query must not see a key: query i sits at position
// past + i and sees keys 0 .. past + i.
torch::Tensor causal_mask(int64_t queries, int64_t keys, int64_t past, const torch::Device& device);

}  // namespace slimformer::nn
