#include "slimformer/nn/sublayer.h"

#include <fmt/format.h>

#include "slimformer/core/error.h"

namespace slimformer::nn {

std::string sublayer_type_name(SublayerType type) {
  switch (type) {
    case SublayerType::kSelfAttention:
      return "self_attn";
    case SublayerType::kCrossAttention:
      return "cross_attn";
    case SublayerType::kFeedForward:
      return "ffn";
  }
  return "unknown";
}

SublayerImpl::SublayerImpl(const SublayerOptions& options, std::shared_ptr<BlockImpl> block)
    : options_(options) {
  block_ = register_module("block", std::move(block));
  norm_ =
      register_module("norm", Norm(NormOptions{options.embed_dim, options.norm, options.norm_eps}));
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout));
}

torch::Tensor SublayerImpl::forward(const torch::Tensor& x, const BlockContext& context) {
  if (!enabled()) return x;
  if (!context.taps) return apply(x, context);
  // The block names its taps after this sublayer.
  BlockContext scoped = context;
  scoped.scope = &options_.path;
  return apply(x, scoped);
}

torch::Tensor SublayerImpl::apply(const torch::Tensor& x, const BlockContext& context) {
  if (options_.pre_norm) return x + dropout_(block_->forward(norm_(x), context));
  return norm_(x + dropout_(block_->forward(x, context)));
}

void SublayerImpl::remove() {
  if (removed_) return;
  unregister_module("block");
  unregister_module("norm");
  block_.reset();
  norm_ = Norm{nullptr};
  removed_ = true;
}

void SublayerImpl::replace(std::shared_ptr<BlockImpl> block) {
  if (removed_)
    throw core::UserError(
        fmt::format("{}: cannot replace the block of a removed sublayer", path()));
  block_ = replace_module("block", std::move(block));
}

core::TensorMap SublayerImpl::state() const {
  core::TensorMap out;
  for (const auto& item : named_parameters()) out[path() + "." + item.key()] = item.value();
  return out;
}

void SublayerImpl::load_state(const core::TensorMap& tensors) {
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters()) {
    const std::string key = path() + "." + item.key();
    auto it = tensors.find(key);
    if (it == tensors.end())
      throw core::UserError(fmt::format("no tensor {} for sublayer {}", key, path()));
    item.value().copy_(it->second);
  }
}

void SublayerImpl::interpolate(const core::TensorMap& init, const core::TensorMap& final,
                               double alpha) {
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters()) {
    const std::string key = path() + "." + item.key();
    auto a = init.find(key), b = final.find(key);
    if (a == init.end() || b == final.end())
      throw core::UserError(
          fmt::format("interpolate {}: no tensor {} in both endpoints", path(), key));
    item.value().copy_((1.0 - alpha) * a->second + alpha * b->second);
  }
}

int64_t SublayerImpl::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace slimformer::nn
