// Feed-forward blocks: position-wise two-layer networks, fc2(dropout(act(fc1(x)))), or the gated
// form (GLU variants, Shazeer 2020; SwiGLU in Llama) fc2(dropout(act(fc1(x)) * fc3(x))), where
// fc1, fc3 and fc2 are Llama's w1 (gate), w3 (up) and w2 (down). Block kind "ffn"; spec options:
// hidden_dim, activation, gated, bias.
#pragma once

#include <string>
#include <vector>

#include "slimformer/nn/block.h"
#include "slimformer/nn/linear.h"

namespace slimformer::nn {

struct FeedForwardOptions {
  int64_t embed_dim = 512;
  int64_t hidden_dim = 2048;
  std::string activation = "relu";  // relu | gelu | silu
  double dropout = 0.0;             // after the activation
  bool gated = false;               // GLU form with a third projection fc3
  bool bias = true;
};

class FeedForwardImpl : public BlockImpl {
 public:
  explicit FeedForwardImpl(const FeedForwardOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const BlockContext& context) override;
  BlockSpec spec() const override;
  const FeedForwardOptions& options() const { return options_; }

  Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};  // fc3 only when gated

 private:
  FeedForwardOptions options_;
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(FeedForward);

// The activations blocks can name: relu, gelu, silu (swish is silu).
const std::vector<std::string>& activation_names();
bool is_activation(const std::string& name);
// Applies a named activation: those above, and tanh, sigmoid, leaky_relu (slope 0.01) and elu,
// which searched FFNs use; throws std::invalid_argument for an unknown name.
torch::Tensor activate(const torch::Tensor& x, const std::string& name);

}  // namespace slimformer::nn
