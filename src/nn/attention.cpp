#include "slimformer/nn/attention.h"

#include <cmath>

#include "slimformer/nn/positions.h"

namespace slimformer::nn {

void AttentionCache::reorder(const torch::Tensor& order) {
  if (!defined()) return;
  key = key.index_select(0, order);
  value = value.index_select(0, order);
}

SoftmaxAttentionImpl::SoftmaxAttentionImpl(const AttentionOptions& options) : options_(options) {
  TORCH_CHECK(options.embed_dim % options.num_heads == 0, "attention: embed_dim ",
              options.embed_dim, " is not divisible by num_heads ", options.num_heads);
  TORCH_CHECK(options.num_heads % kv_heads() == 0, "attention: num_kv_heads ", kv_heads(),
              " does not divide num_heads ", options.num_heads);
  const int64_t d = options.embed_dim, kv_dim = d / options.num_heads * kv_heads();
  auto linear = [&](int64_t in, int64_t out) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(options.bias));
  };
  q_proj = register_module("q_proj", linear(d, d));
  k_proj = register_module("k_proj", linear(d, kv_dim));
  v_proj = register_module("v_proj", linear(d, kv_dim));
  out_proj = register_module("out_proj", linear(d, d));
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout));
}

int64_t SoftmaxAttentionImpl::kv_heads() const {
  return options_.num_kv_heads > 0 ? options_.num_kv_heads : options_.num_heads;
}

torch::Tensor SoftmaxAttentionImpl::split_heads(const torch::Tensor& x, int64_t heads) const {
  return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}

torch::Tensor SoftmaxAttentionImpl::forward(const torch::Tensor& x, const BlockContext& context) {
  const int64_t batch = x.size(0), length = x.size(1);
  torch::Tensor q = split_heads(q_proj(x), options_.num_heads);

  // Keys and values: from the memory (computed once per sequence when cached) or from the input
  // (appended to the cache one step at a time).
  torch::Tensor k, v;
  AttentionCache* cache = context.cache;
  if (options_.cross) {
    if (cache && cache->defined()) {
      k = cache->key, v = cache->value;
    } else {
      k = split_heads(k_proj(context.memory), kv_heads());
      v = split_heads(v_proj(context.memory), kv_heads());
      if (cache) cache->key = k, cache->value = v;
    }
  } else {
    k = split_heads(k_proj(x), kv_heads());
    v = split_heads(v_proj(x), kv_heads());
    if (options_.rotary_theta > 0) {
      const int64_t start = cache && cache->defined() ? cache->key.size(2) : 0;
      q = apply_rotary(q, start, options_.rotary_theta);
      k = apply_rotary(k, start, options_.rotary_theta);
    }
    if (cache) {
      if (cache->defined()) {
        k = torch::cat({cache->key, k}, 2);
        v = torch::cat({cache->value, v}, 2);
      }
      cache->key = k, cache->value = v;
    }
  }

  // Grouped-query attention: each key/value head serves num_heads / kv_heads query heads (the
  // cache keeps the smaller tensors).
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
    const int64_t past = k.size(2) - length;  // cached steps before this chunk
    scores = scores.masked_fill(causal_mask(length, k.size(2), past, x.device()),
                                -std::numeric_limits<float>::infinity());
  }
  torch::Tensor weights = dropout_(torch::softmax(scores, -1));
  torch::Tensor out = torch::matmul(weights, v).transpose(1, 2).reshape({batch, length, -1});
  return out_proj(out);
}

torch::Tensor causal_mask(int64_t queries, int64_t keys, int64_t past,
                          const torch::Device& device) {
  return torch::ones({queries, keys}, torch::TensorOptions().dtype(torch::kBool).device(device))
      .triu(1 + past);
}

}  // namespace slimformer::nn
