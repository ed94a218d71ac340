#include "slimformer/nn/feed_forward.h"

namespace slimformer::nn {

torch::Tensor activate(const torch::Tensor& x, const std::string& name) {
  if (name == "relu") return torch::relu(x);
  if (name == "gelu") return torch::gelu(x);
  if (name == "silu" || name == "swish") return torch::silu(x);
  throw std::invalid_argument("unknown activation " + name + " (expected relu, gelu or silu)");
}

FeedForwardImpl::FeedForwardImpl(const FeedForwardOptions& options) : options_(options) {
  activate(torch::zeros({1}), options.activation);  // reject a bad name at construction
  fc1 = register_module("fc1", torch::nn::Linear(options.embed_dim, options.hidden_dim));
  fc2 = register_module("fc2", torch::nn::Linear(options.hidden_dim, options.embed_dim));
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x, const BlockContext& /*context*/) {
  return fc2(dropout_(activate(fc1(x), options_.activation)));
}

}  // namespace slimformer::nn
