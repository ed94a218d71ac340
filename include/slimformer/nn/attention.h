// Attention blocks. Softmax multi-head attention (Vaswani et al. 2017), used as self-attention
// (queries, keys and values from the input) or cross-attention (keys and values from the encoder
// memory), with grouped-query heads and rotary positions as options, and a key/value state for
// incremental decoding. Block kind "softmax_attention"; spec options: heads, kv_heads,
// head_dim, bias, rotary_theta.
#pragma once

#include "slimformer/nn/block.h"
#include "slimformer/nn/linear.h"
#include "slimformer/nn/positions.h"

namespace slimformer::nn {

struct AttentionOptions {
  int64_t embed_dim = 512;
  int64_t num_heads = 8;
  double dropout = 0.0;       // on the attention weights
  bool cross = false;         // keys and values from BlockContext::memory
  bool causal = false;        // self-attention that may not look ahead
  int64_t num_kv_heads = 0;   // key/value heads; 0: num_heads. Must divide num_heads.
  int64_t head_dim = 0;       // per head; 0: embed_dim / num_heads (which must divide)
  bool bias = true;           // biases on the four projections
  double rotary_theta = 0.0;  // > 0: rotary positions with this base on queries and keys
};

// The keys and values an attention block has seen, [batch, kv_heads, time, head_dim]: appended
// one step at a time for self-attention (written in place into storage reserved for
// `capacity` steps, so a step copies only its own keys), computed once per sequence for
// cross-attention.
class KeyValueState : public BlockState {
 public:
  // `capacity`: the steps to reserve at the first append (0: exactly what it appends; the
  // storage doubles whenever it runs out).
  // `from_source`: the keys and values depend on the source alone (cross-attention), so beams of
  // one source share them and a kWithinSource reorder leaves them as they are.
  explicit KeyValueState(int64_t capacity = 0, bool from_source = false)
      : capacity_(capacity), from_source_(from_source) {}
  bool empty() const { return length_ == 0; }
  int64_t length() const { return length_; }
  // Appends new keys and values along time; returns the whole sequence of each (views).
  std::pair<torch::Tensor, torch::Tensor> append(const torch::Tensor& k, const torch::Tensor& v);
  // The keys and values seen so far, [batch, kv_heads, length, head_dim] (views).
  torch::Tensor keys() const;
  torch::Tensor values() const;
  void reorder(const torch::Tensor& order, Reorder scope) override;
  // Bytes of the reserved storage.
  int64_t bytes() const override;

 private:
  // Makes room for `more` steps after the current length.
  void reserve(int64_t more, const torch::Tensor& like_k, const torch::Tensor& like_v);
  torch::Tensor key_, value_;  // [batch, kv_heads, reserved steps, head_dim]
  int64_t length_ = 0, capacity_ = 0;
  bool from_source_ = false;
};

// What every attention kind shares: the query, key, value and output projections (parameters
// q_proj, k_proj, v_proj, out_proj), grouped-query heads and rotary positions. A kind derives from
// it and decides how queries meet keys.
class AttentionBaseImpl : public BlockImpl {
 public:
  explicit AttentionBaseImpl(const AttentionOptions& options);
  const AttentionOptions& options() const { return options_; }
  int64_t kv_heads() const;
  int64_t head_dim() const;

  Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};

 protected:
  // [B, heads or kv_heads, T, head_dim] each.
  struct Heads {
    torch::Tensor q, k, v;
  };
  // Queries of x and, for self-attention, its keys and values (one product in inference), rotated
  // for positions context.position onward when the block has rotary positions. Cross-attention
  // leaves k and v undefined: they come from memory_heads, once per sequence when decoding.
  Heads project(const torch::Tensor& x, const BlockContext& context);
  std::pair<torch::Tensor, torch::Tensor> memory_heads(const torch::Tensor& memory);
  // [B, heads, T, head_dim] -> out_proj of [B, T, heads * head_dim].
  torch::Tensor merge_heads(const torch::Tensor& heads);
  // The spec of this block as `kind`, with the options every attention kind has.
  BlockSpec attention_spec(const std::string& kind) const;
  AttentionOptions options_;

 private:
  // [B, T, heads * hd] -> [B, heads, T, hd]
  torch::Tensor split_heads(const torch::Tensor& x, int64_t heads) const;
  JoinedLinears qkv_;     // query, key and value projections in one product (inference)
  PositionTable rotary_;  // cos and sin of the rotary angles, when the block has them
};

class SoftmaxAttentionImpl : public AttentionBaseImpl {
 public:
  explicit SoftmaxAttentionImpl(const AttentionOptions& options);
  // Reports "<scope>.attention_probs" [B, heads, T, S] to taps that want it.
  torch::Tensor forward(const torch::Tensor& x, const BlockContext& context) override;
  BlockSpec spec() const override;
  std::unique_ptr<BlockState> make_state(int64_t max_length) const override;

 private:
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(SoftmaxAttention);

// Boolean mask [queries, keys], true where a query must not see a key: query i sits at position
// past + i and sees keys 0 .. past + i.
torch::Tensor causal_mask(int64_t queries, int64_t keys, int64_t past, const torch::Device& device);

}  // namespace slimformer::nn
