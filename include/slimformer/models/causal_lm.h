// Decoder-only causal language model (GPT- and Llama-style), built from Sublayers:
//   decoder.layers.i.{self_attn, ffn}
// The config's options give the variants: learned, sinusoidal or rotary positions; LayerNorm or
// RMSNorm; ReLU/GELU or gated (SwiGLU) feed-forward; multi-head or grouped-query attention;
// tied or separate output embeddings.
#pragma once

#include <torch/torch.h>

#include "slimformer/models/model_tree.h"
#include "slimformer/models/transformer_config.h"
#include "slimformer/models/transformer_stack.h"
#include "slimformer/nn/linear.h"

namespace slimformer::models {

class CausalLMImpl : public torch::nn::Module, public ModelTree {
 public:
  explicit CausalLMImpl(const TransformerConfig& config);

  // Next-token logits [B, T, V] for tokens [B, T]. With a decoding state, tokens are the
  // positions after those the state has seen, and the state advances by T. Sequences are
  // right-padded: causal attention never lets a real token see the padding after it. Reports the
  // decoder's taps when given.
  torch::Tensor forward(const torch::Tensor& tokens, DecodingState* state = nullptr,
                        nn::Taps* taps = nullptr);
  // A fresh decoding state with room for `max_length` positions (0: grown as needed).
  DecodingState make_state(int64_t max_length = 0) const { return decoder->make_state(max_length); }
  // The embedding step: tokens at positions start .. start + T - 1.
  torch::Tensor embed(const torch::Tensor& tokens, int64_t start = 0);
  // Output logits of decoder states [B, T, D].
  torch::Tensor logits(const torch::Tensor& hidden);

  // Reinitializes all parameters from config.init_seed (initialize_model).
  void initialize();

  const TransformerConfig& config() const override { return config_; }
  std::vector<nn::Sublayer> sublayers() override { return decoder->sublayers(); }
  torch::nn::Module& module() override { return *this; }

  nn::Embedding embed_tokens{nullptr}, embed_positions{nullptr};
  TransformerStack decoder{nullptr};
  nn::Linear lm_head{nullptr};  // absent when tied to embed_tokens

 protected:
  TransformerConfig& mutable_config() override { return config_; }

 private:
  TransformerConfig config_;
  nn::PositionTable sinusoids_ = nn::sinusoid_table(config_.d_model);
  torch::nn::Dropout embed_dropout_{nullptr};
};
TORCH_MODULE(CausalLM);

}  // namespace slimformer::models
