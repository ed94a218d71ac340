#include "slimformer/nn/attention.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "slimformer/nn/positions.h"

namespace slimformer::nn {

void KeyValueState::reserve(int64_t more, const torch::Tensor& like_k,
                            const torch::Tensor& like_v) {
  const int64_t needed = length_ + more;
  const int64_t reserved = key_.defined() ? key_.size(2) : 0;
  if (needed <= reserved) return;
  const int64_t steps = std::max({needed, capacity_, 2 * reserved});
  auto grown = [&](const torch::Tensor& old, const torch::Tensor& like) {
    auto sizes = like.sizes().vec();
    sizes[2] = steps;
    torch::Tensor storage = torch::empty(sizes, like.options());
    if (length_ > 0) storage.narrow(2, 0, length_).copy_(old.narrow(2, 0, length_));
    return storage;
  };
  key_ = grown(key_, like_k);
  value_ = grown(value_, like_v);
}

std::pair<torch::Tensor, torch::Tensor> KeyValueState::append(const torch::Tensor& k,
                                                              const torch::Tensor& v) {
  const int64_t steps = k.size(2);
  reserve(steps, k, v);
  key_.narrow(2, length_, steps).copy_(k);
  value_.narrow(2, length_, steps).copy_(v);
  length_ += steps;
  return {keys(), values()};
}

torch::Tensor KeyValueState::keys() const {
  return empty() ? torch::Tensor() : key_.narrow(2, 0, length_);
}

torch::Tensor KeyValueState::values() const {
  return empty() ? torch::Tensor() : value_.narrow(2, 0, length_);
}

void KeyValueState::reorder(const torch::Tensor& order, Reorder scope) {
  if (empty() || (from_source_ && scope == Reorder::kWithinSource)) return;
  if (order.size(0) == key_.size(0)) {
    // Same rows (beam search): reorder the steps seen so far in place.
    for (auto* storage : {&key_, &value_}) {
      torch::Tensor seen = storage->narrow(2, 0, length_);
      seen.copy_(seen.index_select(0, order));
    }
  } else {
    // Fewer rows (finished sequences dropped): new storage of the kept rows.
    key_ = key_.index_select(0, order);
    value_ = value_.index_select(0, order);
  }
}

int64_t KeyValueState::bytes() const {
  if (!key_.defined()) return 0;
  return int64_t(key_.nbytes() + value_.nbytes());
}

AttentionBaseImpl::AttentionBaseImpl(const AttentionOptions& options)
    : options_(options),
      rotary_([head_dim = head_dim(), theta = options.rotary_theta](int64_t positions,
                                                                    const torch::Device& device) {
        return rotary_angles(0, positions, head_dim, theta, device);
      }) {
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
}

int64_t AttentionBaseImpl::kv_heads() const {
  return options_.num_kv_heads > 0 ? options_.num_kv_heads : options_.num_heads;
}

int64_t AttentionBaseImpl::head_dim() const {
  return options_.head_dim > 0 ? options_.head_dim : options_.embed_dim / options_.num_heads;
}

BlockSpec AttentionBaseImpl::attention_spec(const std::string& kind) const {
  return {kind,
          {{"heads", options_.num_heads},
           {"kv_heads", options_.num_kv_heads == options_.num_heads ? 0 : options_.num_kv_heads},
           {"head_dim", head_dim()},
           {"bias", options_.bias},
           {"rotary_theta", options_.rotary_theta}}};
}

torch::Tensor AttentionBaseImpl::split_heads(const torch::Tensor& x, int64_t heads) const {
  return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}

AttentionBaseImpl::Heads AttentionBaseImpl::project(const torch::Tensor& x,
                                                    const BlockContext& context) {
  Heads heads;
  if (options_.cross) {
    heads.q = split_heads(q_proj(x), options_.num_heads);
    return heads;
  }
  // Self-attention projects queries, keys and values of the same input: one product in inference.
  auto projected = qkv_.forward({q_proj.get(), k_proj.get(), v_proj.get()}, x);
  heads.q = split_heads(projected[0], options_.num_heads);
  heads.k = split_heads(projected[1], kv_heads());
  heads.v = split_heads(projected[2], kv_heads());
  if (options_.rotary_theta > 0) {
    torch::Tensor angles = rotary_.rows(context.position, x.size(1), x.device());
    torch::Tensor cos = angles.select(1, 0).to(x.dtype()), sin = angles.select(1, 1).to(x.dtype());
    heads.q = apply_rotary(heads.q, cos, sin);
    heads.k = apply_rotary(heads.k, cos, sin);
  }
  return heads;
}

std::pair<torch::Tensor, torch::Tensor> AttentionBaseImpl::memory_heads(
    const torch::Tensor& memory) {
  return {split_heads(k_proj(memory), kv_heads()), split_heads(v_proj(memory), kv_heads())};
}

torch::Tensor AttentionBaseImpl::merge_heads(const torch::Tensor& heads) {
  return out_proj(heads.transpose(1, 2).reshape({heads.size(0), heads.size(2), -1}));
}

SoftmaxAttentionImpl::SoftmaxAttentionImpl(const AttentionOptions& options)
    : AttentionBaseImpl(options) {
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout));
}

BlockSpec SoftmaxAttentionImpl::spec() const { return attention_spec("softmax_attention"); }

std::unique_ptr<BlockState> SoftmaxAttentionImpl::make_state(int64_t max_length) const {
  // Cross-attention keeps the memory's keys and values, whose length the first step sets.
  if (options_.cross) return std::make_unique<KeyValueState>(0, /*from_source=*/true);
  return std::make_unique<KeyValueState>(max_length);
}

torch::Tensor SoftmaxAttentionImpl::forward(const torch::Tensor& x, const BlockContext& context) {
  const int64_t length = x.size(1);
  auto [q, k, v] = project(x, context);

  // Keys and values: from the memory (computed once per sequence when decoding) or from the
  // input (appended to the state one step at a time).
  auto* state = static_cast<KeyValueState*>(context.state);
  if (options_.cross) {
    if (state && !state->empty()) {
      k = state->keys(), v = state->values();
    } else {
      std::tie(k, v) = memory_heads(context.memory);
      if (state) state->append(k, v);
    }
  } else if (state) {
    std::tie(k, v) = state->append(k, v);
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
  return merge_heads(torch::matmul(dropout_(probs), v));
}

torch::Tensor causal_mask(int64_t queries, int64_t keys, int64_t past,
                          const torch::Device& device) {
  return torch::ones({queries, keys}, torch::TensorOptions().dtype(torch::kBool).device(device))
      .triu(1 + past);
}

}  // namespace slimformer::nn
