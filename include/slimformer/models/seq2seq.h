// Encoder-decoder Transformer for translation (Vaswani et al. 2017), built from Sublayers:
//   encoder.layers.i.{self_attn, ffn}, decoder.layers.i.{self_attn, cross_attn, ffn}
#pragma once

#include <torch/torch.h>

#include "slimformer/models/model_tree.h"
#include "slimformer/models/transformer_config.h"
#include "slimformer/nn/attention.h"
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

// A stack of layers, with the final layer norm that pre-norm stacks need.
class TransformerStackImpl : public torch::nn::Module {
 public:
  TransformerStackImpl(std::vector<TransformerLayer> layers, int64_t d_model, bool pre_norm);
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm final_norm{nullptr};
};
TORCH_MODULE(TransformerStack);

struct EncoderOutput {
  torch::Tensor memory;  // [B, S, D]
  torch::Tensor mask;    // [B, 1, 1, S], true at padding
  // Keeps the rows `order` (beam search expands each source into beams).
  EncoderOutput index_select(const torch::Tensor& order) const;
};

class Seq2SeqTransformerImpl : public torch::nn::Module, public ModelTree {
 public:
  explicit Seq2SeqTransformerImpl(const TransformerConfig& config);

  // Teacher-forced logits [B, T, V] for target inputs tgt_in (starting with BOS).
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& tgt_in);
  EncoderOutput encode(const torch::Tensor& src);
  // Logits for tgt [B, T]; with a cache, tgt holds only the new positions.
  torch::Tensor decode(const torch::Tensor& tgt, const EncoderOutput& encoded,
                       DecoderCache* cache = nullptr);
  DecoderCache make_cache() const;

  // Reinitializes all parameters from config.init_seed: xavier-uniform matrices, zero biases,
  // N(0, d^-1/2) embeddings, unit norms.
  void initialize();

  const TransformerConfig& config() const { return config_; }
  std::vector<nn::Sublayer> sublayers() override;
  torch::nn::Module& module() override { return *this; }
  void remove(const std::string& path) override;

 private:
  torch::Tensor embed(const torch::Tensor& tokens, torch::nn::Embedding& table,
                      torch::nn::Embedding& positions, int64_t start);
  TransformerStack build_stack(const std::string& name, int64_t layers, bool cross);

  TransformerConfig config_;
  torch::nn::Embedding encoder_embed_tokens{nullptr}, decoder_embed_tokens{nullptr};
  torch::nn::Embedding encoder_embed_positions{nullptr}, decoder_embed_positions{nullptr};
  TransformerStack encoder{nullptr}, decoder{nullptr};
  torch::nn::Linear lm_head{nullptr};
  torch::nn::Dropout embed_dropout{nullptr};
};
TORCH_MODULE(Seq2SeqTransformer);

}  // namespace slimformer::models
