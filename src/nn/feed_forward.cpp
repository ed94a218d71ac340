#include "slimformer/nn/feed_forward.h"

#include <algorithm>

namespace slimformer::nn {

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names = {"relu", "gelu", "silu", "swish"};
  return names;
}

bool is_activation(const std::string& name) {
  const auto& names = activation_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

torch::Tensor activate(const torch::Tensor& x, const std::string& name) {
  if (name == "relu") return torch::relu(x);
  if (name == "gelu") return torch::gelu(x);
  if (name == "silu" || name == "swish") return torch::silu(x);
  // The searched FFNs' further activations (nn/ffn_expression.h).
  if (name == "tanh") return torch::tanh(x);
  if (name == "sigmoid") return torch::sigmoid(x);
  if (name == "leaky_relu") return torch::leaky_relu(x, 0.01);
  if (name == "elu") return torch::elu(x);
  throw std::invalid_argument("unknown activation " + name);
}

FeedForwardImpl::FeedForwardImpl(const FeedForwardOptions& options) : options_(options) {
  activate(torch::zeros({1}), options.activation);  // reject a bad name at construction
  auto linear = [&](int64_t in, int64_t out) {
    return Linear(LinearOptions(in, out).bias(options.bias));
  };
  fc1 = register_module("fc1", linear(options.embed_dim, options.hidden_dim));
  fc2 = register_module("fc2", linear(options.hidden_dim, options.embed_dim));
  if (options.gated) fc3 = register_module("fc3", linear(options.embed_dim, options.hidden_dim));
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout));
}

BlockSpec FeedForwardImpl::spec() const {
  return {"ffn",
          {{"hidden_dim", options_.hidden_dim},
           {"activation", options_.activation},
           {"gated", options_.gated},
           {"bias", options_.bias}}};
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x, const BlockContext& /*context*/) {
  torch::Tensor hidden = activate(fc1(x), options_.activation);
  if (fc3) hidden = hidden * fc3(x);
  return fc2(dropout_(hidden));
}

}  // namespace slimformer::nn
