// Linear attention (Katharopoulos et al. 2020; Kasai et al. 2021, "T2R"): softmax's similarity
// exp(q.k / sqrt(d)) is replaced by phi(q).phi(k) for a feature map phi, so causal attention runs
// as a recurrence over a fixed-size state per head, S = sum phi(k_i) v_i^T and
// z = sum phi(k_i), and a generated token costs the same whatever the length before it.
// Block kind "linear_attention"; spec options: heads, kv_heads, head_dim, bias, rotary_theta (as
// softmax_attention's, whose projections it keeps), feature_map and feature_dim.
//
// Feature maps, each per key/value head and shared by its queries and keys:
//   t2r  relu(W x + b), W [feature_dim, head_dim] learned (Kasai et al.), queries scaled by
//        1/sqrt(head_dim) first as softmax scales its dot products;
//   elu  elu(x) + 1, feature_dim = head_dim (Katharopoulos et al.);
//   rfa  random Fourier features sqrt(1/m) [sin(W u), cos(W u)] of u = x / (|x| + 1e-3), W
//        [m = feature_dim / 2, head_dim] drawn from N(0, 1) once and kept (Peng et al.; their
//        training draws new directions every step, which this block does not).
// With rotary positions the map reads the rotated queries and keys: the pre-trained softmax
// compared rotated vectors, so that is what the map must learn to imitate, and a key's features
// still depend on its own position only, which keeps the state fixed-size.
#pragma once

#include <string>
#include <vector>

#include "slimformer/nn/attention.h"

namespace slimformer::nn {

// "t2r", "elu", "rfa".
const std::vector<std::string>& feature_map_names();
bool is_feature_map(const std::string& name);

// phi per key/value head, as a module of its own ("feature_map": its parameters are
// "<block>.feature_map.weight" and ".bias" for t2r, the buffer ".random" for rfa).
class FeatureMapImpl : public torch::nn::Module, public Initializable {
 public:
  FeatureMapImpl(std::string name, int64_t kv_heads, int64_t head_dim, int64_t feature_dim);
  // x [B, kv_heads, ..., head_dim] -> [B, kv_heads, ..., features()]; t2r reads x * `scale`.
  torch::Tensor forward(const torch::Tensor& x, double scale = 1.0) const;
  // t2r: uniform in +-1/sqrt(head_dim), as a linear layer from head_dim; rfa: N(0, 1).
  void reset_parameters() override;
  const std::string& name() const { return name_; }
  int64_t features() const;

  // t2r: [kv_heads, features, head_dim] and [kv_heads, features]; rfa: weight is the random
  // directions [kv_heads, features / 2, head_dim], a buffer.
  torch::Tensor weight, bias;

 private:
  // A per-head tensor viewed to broadcast over the dimensions of x between the head and the
  // last `trailing` ones.
  torch::Tensor per_head(const torch::Tensor& t, int64_t x_dim, int64_t trailing) const;
  std::string name_;
  int64_t head_dim_, feature_dim_;
};
TORCH_MODULE(FeatureMap);

struct LinearAttentionOptions {
  AttentionOptions attention;  // heads, projections, rotary positions (dropout unused)
  std::string feature_map = "t2r";
  int64_t feature_dim = 32;  // features per head (elu: head_dim)
  // Smallest normalizer phi(q).z divided by (the reference code's 1e-2): keeps long generation
  // finite when a query's features barely meet the keys'.
  double eps = 1e-2;
};

// What a linear attention block keeps between decoding steps: per key/value head
// S = sum phi(k_i) v_i^T [batch, kv_heads, features, head_dim] and z = sum phi(k_i)
// [batch, kv_heads, features], of a fixed size whatever the number of steps; for
// cross-attention, the source's sums, computed once per sentence.
class RecurrentState : public BlockState {
 public:
  explicit RecurrentState(bool from_source = false) : from_source_(from_source) {}
  bool empty() const { return !sums_.defined(); }
  // Adds the keys' features and values of new steps ([B, kv_heads, T, features], [B, kv_heads,
  // T, head_dim]).
  void add(const torch::Tensor& key_features, const torch::Tensor& values);
  // [S | z]: the sums with the normalizer as one more column, [B, kv_heads, features,
  // head_dim + 1], so that one product of a query's features gives numerator and normalizer.
  const torch::Tensor& sums_and_normalizer() const { return sums_; }
  torch::Tensor sums() const { return sums_.narrow(-1, 0, sums_.size(-1) - 1); }    // S
  torch::Tensor normalizer() const { return sums_.select(-1, sums_.size(-1) - 1); }  // z
  void reorder(const torch::Tensor& order, Reorder scope) override;
  int64_t bytes() const override;

 private:
  torch::Tensor sums_;
  bool from_source_ = false;
};

class LinearAttentionImpl : public AttentionBaseImpl {
 public:
  explicit LinearAttentionImpl(const LinearAttentionOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const BlockContext& context) override;
  BlockSpec spec() const override;
  std::unique_ptr<BlockState> make_state(int64_t max_length) const override;
  const LinearAttentionOptions& linear_options() const { return linear_options_; }

  FeatureMap feature_map{nullptr};

 private:
  LinearAttentionOptions linear_options_;
};
TORCH_MODULE(LinearAttention);

// The attention of phi-features: out_i = sum_j a_ij v_j / max(sum_j a_ij, eps) with
// a_ij = phi(q_i).phi(k_j), zero where `mask` (true = masked, [B, 1, T or 1, S]) or causality
// forbids, plus what a state saw before (`past`: its sums and normalizer, or nullptr).
// q_features [B, kv_heads, group, T, features] (query heads grouped by their key/value head),
// k_features [B, kv_heads, S, features], values [B, kv_heads, S, head_dim]. Returns
// [B, kv_heads, group, T, head_dim].
torch::Tensor linear_attention(const torch::Tensor& q_features, const torch::Tensor& k_features,
                               const torch::Tensor& values, const torch::Tensor& mask,
                               bool causal, const RecurrentState* past, double eps);

}  // namespace slimformer::nn
