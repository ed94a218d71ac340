#include "slimformer/nn/attention.h"

#include <fmt/format.h>

#include <cmath>

#include "slimformer/nn/positions.h"

namespace slimformer::nn {

std::pair<torch::Tensor, torch::Tensor> KeyValueState::append(const torch::Tensor& k,
                                                              const torch::Tensor& v) {
  if (empty()) {
    key = k, value = v;
  } else {
    key = torch::cat({key, k}, 2);
    value = torch::cat({value, v}, 2);
  }
  return {key, value};
}

void KeyValueState::reorder(const torch::Tensor& order) {
  if (empty()) return;
  key = key.index_select(0, order);
  value = value.index_select(0, order);
}

int64_t KeyValueState::bytes() const {
  if (empty()) return 0;
  return int64_t(key.nbytes() + value.nbytes());
}

SoftmaxAttentionImpl::SoftmaxAttentionImpl(const AttentionOptions& options) : options_(options) {
  TORCH_CHECK(options.num_heads >= 1, "attention: num_heads must be >= 1");
  TORCH_CHECK(options.head_dim > 0 || options.embed_dim % options.num_heads == 0,
              "attention: embed_dim ", options.embed_dim, " is not divisible by num_heads ",
              options.num_heads);
  TORCH_CHECK(options.num_heads % kv_heads() == 0, "attention: num_kv_heads ", kv_heads(),
              " does not divide num_heads ", options.num_heads);
  const int64_t d = options.embed_dim, hd = head_dim();
  auto linear = [&](int64_t in, int64_t out) {
    return Linear(LinearOptions(in, out).bias(options.bias));
  };
  q_proj = register_module("q_proj", linear(d, options.num_heads * hd));
  k_proj = register_module("k_proj", linear(d, kv_heads() * hd));
  v_proj = register_module("v_proj", linear(d, kv_heads() * hd));
  out_proj = register_module("out_proj", linear(options.num_heads * hd, d));
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout));
}

int64_t SoftmaxAttentionImpl::kv_heads() const {
  return options_.num_kv_heads > 0 ? options_.num_kv_heads : options_.num_heads;
}

int64_t SoftmaxAttentionImpl::head_dim() const {
  return options_.head_dim > 0 ? options_.head_dim : options_.embed_dim / options_.num_heads;
}

BlockSpec SoftmaxAttentionImpl::spec() const {
  return {"softmax_attention",
          {{"heads", options_.num_heads},
           {"kv_heads", options_.num_kv_heads == options_.num_heads ? 0 : options_.num_kv_heads},
           {"head_dim", head_dim()},
           {"bias", options_.bias},
           {"rotary_theta", options_.rotary_theta}}};
}

std::unique_ptr<BlockState> SoftmaxAttentionImpl::make_state() const {
  return std::make_unique<KeyValueState>();
}

torch::Tensor SoftmaxAttentionImpl::split_heads(const torch::Tensor& x, int64_t heads) const {
  return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}

torch::Tensor SoftmaxAttentionImpl::forward(const torch::Tensor& x, const BlockContext& context) {
  const int64_t batch = x.size(0), length = x.size(1);
  torch::Tensor q = split_heads(q_proj(x), options_.num_heads);

  // Keys and values: from the memory (computed once per sequence when decoding) or from the
  // input (appended to the state one step at a time).
  torch::Tensor k, v;
  auto* state = static_cast<KeyValueState*>(context.state);
  if (options_.cross) {
    if (state && !state->empty()) {
      k = state->key, v = state->value;
    } else {
      k = split_heads(k_proj(context.memory), kv_heads());
      v = split_heads(v_proj(context.memory), kv_heads());
      if (state) state->append(k, v);
    }
  } else {
    k = split_heads(k_proj(x), kv_heads());
    v = split_heads(v_proj(x), kv_heads());
    if (options_.rotary_theta > 0) {
      q = apply_rotary(q, context.position, options_.rotary_theta);
      k = apply_rotary(k, context.position, options_.rotary_theta);
    }
    if (state) std::tie(k, v) = state->append(k, v);
  }

  // Grouped-query attention: each key/value head serves num_heads / kv_heads query heads (the
  // state keeps the smaller tensors).
  if (kv_heads() != options_.num_heads) {
    const int64_t group = options_.num_heads / kv_heads();
    k = k.repeat_interleave(group, 1);
    v = v.repeat_interleave(group, 1);
  }

  // Scaled dot products, masked, normalized, applied to the values.
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(q.size(-1)));
  const torch::Tensor& mask = options_.cross ? context.memory_mask : context.self_mask;
  if (mask.defined()) scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity());
  if (options_.causal && length > 1) {
    const int64_t past = k.size(2) - length;  // keys before this chunk, from the state
    scores = scores.masked_fill(causal_mask(length, k.size(2), past, x.device()),
                                -std::numeric_limits<float>::infinity());
  }
  torch::Tensor probs = torch::softmax(scores, -1);
  context.tap("attention_probs", probs);
  torch::Tensor out =
      torch::matmul(dropout_(probs), v).transpose(1, 2).reshape({batch, length, -1});
  return out_proj(out);
}

torch::Tensor causal_mask(int64_t queries, int64_t keys, int64_t past,
                          const torch::Device& device) {
  return torch::ones({queries, keys}, torch::TensorOptions().dtype(torch::kBool).device(device))
      .triu(1 + past);
}

}  // namespace slimformer::nn
