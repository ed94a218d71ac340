// Sublayer: one attention or feed-forward block with its residual connection, layer norm and
// dropout; the unit every compression method addresses by its path
// ("encoder.layers.3.self_attn", "decoder.layers.5.ffn").
//
//   post-norm (Vaswani et al.):  y = norm(x + dropout(block(x)))
//   pre-norm:                    y = x + dropout(block(norm(x)))
//   switched off or removed:     y = x
#pragma once

#include <memory>
#include <string>

#include "slimformer/core/safetensors.h"
#include "slimformer/nn/block.h"
#include "slimformer/nn/norm.h"

namespace slimformer::nn {

enum class SublayerType { kSelfAttention, kCrossAttention, kFeedForward };

// "self_attn", "cross_attn", "ffn": the last component of a sublayer's path.
std::string sublayer_type_name(SublayerType type);

struct SublayerOptions {
  std::string path;
  SublayerType type = SublayerType::kFeedForward;
  int64_t embed_dim = 512;
  bool pre_norm = false;
  double dropout = 0.0;             // on the block's output, before the residual sum
  std::string norm = "layer_norm";  // layer_norm | rms_norm
  double norm_eps = 1e-5;
};

class SublayerImpl : public torch::nn::Module {
 public:
  SublayerImpl(const SublayerOptions& options, std::shared_ptr<BlockImpl> block);
  torch::Tensor forward(const torch::Tensor& x, const BlockContext& context);

  const std::string& path() const { return options_.path; }
  SublayerType type() const { return options_.type; }
  bool pre_norm() const { return options_.pre_norm; }

  // Switched off, the sublayer is the identity; its parameters stay.
  bool enabled() const { return enabled_ && !removed_; }
  void set_enabled(bool enabled) { enabled_ = enabled; }

  // Physical removal: the block and norm and their parameters are gone for good.
  bool removed() const { return removed_; }
  void remove();

  std::shared_ptr<BlockImpl> block() const { return block_; }
  // Swaps in another block (another attention kind, a searched feed-forward). Models record the
  // change in their config through ModelTree::replace, which calls this.
  void replace(std::shared_ptr<BlockImpl> block);

  // This sublayer's parameters, keyed by full path ("<path>.block.fc1.weight").
  core::TensorMap state() const;
  // Copies this sublayer's entries of `tensors` into its parameters; throws if one is missing.
  void load_state(const core::TensorMap& tensors);
  // theta = (1 - alpha) * theta_init + alpha * theta_final for every parameter of this sublayer.
  void interpolate(const core::TensorMap& init, const core::TensorMap& final, double alpha);
  int64_t num_parameters() const;

 private:
  SublayerOptions options_;
  torch::Tensor apply(const torch::Tensor& x, const BlockContext& context);

  std::shared_ptr<BlockImpl> block_;
  Norm norm_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  bool enabled_ = true;
  bool removed_ = false;
};
TORCH_MODULE(Sublayer);

}  // namespace slimformer::nn
