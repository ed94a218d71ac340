// Encoder-decoder Transformer for translation (Vaswani et al. 2017), built from Sublayers:
//   encoder.layers.i.{self_attn, ffn}, decoder.layers.i.{self_attn, cross_attn, ffn}
#pragma once

#include <torch/torch.h>

#include "slimformer/models/model_tree.h"
#include "slimformer/models/transformer_config.h"
#include "slimformer/models/transformer_stack.h"
#include "slimformer/nn/linear.h"
#include "slimformer/nn/sublayer.h"

namespace slimformer::models {

struct EncoderOutput {
  torch::Tensor memory;  // [B, S, D]
  torch::Tensor mask;    // [B, 1, 1, S], true at padding; undefined when no source is padded
  // Keeps the rows `order` (beam search expands each source into beams).
  EncoderOutput index_select(const torch::Tensor& order) const;
};

class Seq2SeqTransformerImpl : public torch::nn::Module, public ModelTree {
 public:
  explicit Seq2SeqTransformerImpl(const TransformerConfig& config);

  // Teacher-forced logits [B, T, V] for target inputs tgt_in (starting with BOS).
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& tgt_in);
  // The encoder's output for a padded source batch; reports the encoder's taps when given.
  EncoderOutput encode(const torch::Tensor& src, nn::Taps* taps = nullptr);
  // Logits for tgt [B, T]; with a decoding state, tgt holds only the positions after those the
  // state has seen, and the state advances by T. Reports the decoder's taps when given.
  torch::Tensor decode(const torch::Tensor& tgt, const EncoderOutput& encoded,
                       DecodingState* state = nullptr, nn::Taps* taps = nullptr);
  // A fresh decoding state for the decoder, with room for `max_length` target positions (0: grown
  // as needed).
  DecodingState make_state(int64_t max_length = 0) const { return decoder->make_state(max_length); }

  // Embedding steps (tokens at positions start .. start + T - 1, scaled, with positions, with
  // embedding dropout in training).
  torch::Tensor embed_source(const torch::Tensor& src, int64_t start = 0);
  torch::Tensor embed_target(const torch::Tensor& tgt, int64_t start = 0);
  // Output logits of decoder states [B, T, D].
  torch::Tensor logits(const torch::Tensor& hidden);

  // Reinitializes all parameters from config.init_seed (initialize_model).
  void initialize();

  const TransformerConfig& config() const override { return config_; }
  std::vector<nn::Sublayer> sublayers() override;
  torch::nn::Module& module() override { return *this; }

  nn::Embedding encoder_embed_tokens{nullptr}, decoder_embed_tokens{nullptr};
  nn::Embedding encoder_embed_positions{nullptr}, decoder_embed_positions{nullptr};
  TransformerStack encoder{nullptr}, decoder{nullptr};
  nn::Linear lm_head{nullptr};  // absent when tied to decoder_embed_tokens

 protected:
  TransformerConfig& mutable_config() override { return config_; }

 private:
  TransformerConfig config_;
  nn::PositionTable sinusoids_ = nn::sinusoid_table(config_.d_model);
  torch::nn::Dropout embed_dropout{nullptr};
};
TORCH_MODULE(Seq2SeqTransformer);

}  // namespace slimformer::models
