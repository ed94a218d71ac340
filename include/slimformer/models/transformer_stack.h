// The parts every Transformer family shares: a layer of sublayers, a stack of layers with its
// optional final norm, the decoder's key/value cache, the stack builder that turns a config into
// sublayers with their paths, token embedding and parameter initialization.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "slimformer/models/transformer_config.h"
#include "slimformer/nn/attention.h"
#include "slimformer/nn/norm.h"
#include "slimformer/nn/sublayer.h"

namespace slimformer::models {

// Keys and values cached per decoder layer during incremental decoding.
struct LayerCache {
  nn::AttentionCache self_attn;
  nn::AttentionCache cross_attn;
};

struct DecoderCache {
  std::vector<LayerCache> layers;
  int64_t steps = 0;  // positions decoded so far
  void reorder(const torch::Tensor& order);
};

// One Transformer layer: self-attention, optional cross-attention, feed-forward.
class TransformerLayerImpl : public torch::nn::Module {
 public:
  TransformerLayerImpl(nn::Sublayer self_attn, nn::Sublayer cross_attn, nn::Sublayer ffn);
  torch::Tensor forward(torch::Tensor x, nn::BlockContext context, LayerCache* cache);
  nn::Sublayer self_attn{nullptr}, cross_attn{nullptr}, ffn{nullptr};
};
TORCH_MODULE(TransformerLayer);

// A stack of layers, with the final norm that pre-norm stacks need.
class TransformerStackImpl : public torch::nn::Module {
 public:
  // `final_norm`: the norm after the last layer, if the stack has one.
  TransformerStackImpl(std::vector<TransformerLayer> layers,
                       const std::optional<nn::NormOptions>& final_norm);
  // Runs every layer, then the final norm; `cache`, when given, has one entry per layer.
  torch::Tensor forward(torch::Tensor x, const nn::BlockContext& context, DecoderCache* cache);
  // The sublayers of every layer in forward order.
  std::vector<nn::Sublayer> sublayers();
  torch::nn::ModuleList layers{nullptr};
  nn::Norm final_norm{nullptr};
};
TORCH_MODULE(TransformerStack);

enum class StackSide { kEncoder, kDecoder };

// Builds `<name>.layers.i.{self_attn, [cross_attn], ffn}` from the config's fields for that side.
// Decoder self-attention is causal; `cross_attention` adds the encoder-decoder attention.
TransformerStack build_stack(const TransformerConfig& config, const std::string& name,
                             StackSide side, bool cross_attention);

// Token embeddings (scaled by sqrt(d_model) when configured) plus learned or sinusoidal
// positions for start .. start + T - 1; rotary positions are applied inside attention instead.
torch::Tensor embed_sequence(const TransformerConfig& config, const torch::Tensor& tokens,
                             torch::nn::Embedding& table, torch::nn::Embedding& positions,
                             int64_t start);

// Seeded initialization from config.init_seed: xavier-uniform matrices, zero biases,
// N(0, d^-1/2) embeddings (the padding row zero), unit norms.
void initialize_parameters(torch::nn::Module& module, const TransformerConfig& config);

}  // namespace slimformer::models
