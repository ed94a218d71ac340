// Encoder-decoder Transformer for translation (Vaswani et al. 2017), built from Sublayers:
//   encoder.layers.i.{self_attn, ffn}, decoder.layers.i.{self_attn, cross_attn, ffn}
#pragma once

#include <torch/torch.h>

#include "slimformer/models/model_tree.h"
#include "slimformer/models/transformer_config.h"
#include "slimformer/models/transformer_stack.h"
#include "slimformer/nn/attention.h"
#include "slimformer/nn/sublayer.h"

namespace slimformer::models {

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

  // Reinitializes all parameters from config.init_seed (initialize_parameters).
  void initialize();

  const TransformerConfig& config() const override { return config_; }
  std::vector<nn::Sublayer> sublayers() override;
  torch::nn::Module& module() override { return *this; }

 protected:
  TransformerConfig& mutable_config() override { return config_; }

 private:
  torch::Tensor embed(const torch::Tensor& tokens, torch::nn::Embedding& table,
                      torch::nn::Embedding& positions, int64_t start);

  TransformerConfig config_;
  torch::nn::Embedding encoder_embed_tokens{nullptr}, decoder_embed_tokens{nullptr};
  torch::nn::Embedding encoder_embed_positions{nullptr}, decoder_embed_positions{nullptr};
  TransformerStack encoder{nullptr}, decoder{nullptr};
  torch::nn::Linear lm_head{nullptr};
  torch::nn::Dropout embed_dropout{nullptr};
};
TORCH_MODULE(Seq2SeqTransformer);

}  // namespace slimformer::models
