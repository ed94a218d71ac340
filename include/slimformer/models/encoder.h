// BERT-style encoder (Devlin et al. 2019), built from Sublayers:
//   encoder.layers.i.{self_attn, ffn}
// Token, position and segment embeddings with a LayerNorm, post-norm layers with a GELU FFN, a
// pooler (tanh dense layer on the first token), and one task head chosen by the config's
// encoder_head: masked-LM (dense, GELU, LayerNorm, then the tied token embeddings plus a bias),
// sequence classification or regression (on the pooled first token), or extractive span QA
// (start and end logits per token).
// Decomposed (config.separate_layers = k > 0, DeFormer, Cao et al. 2020): layers below k run on
// each segment alone, attention never crossing a segment boundary, and layers k and above on the
// pair, so a passage's layer-k states do not depend on the question it comes with.
#pragma once

#include <torch/torch.h>

#include "slimformer/models/model_tree.h"
#include "slimformer/models/transformer_config.h"
#include "slimformer/models/transformer_stack.h"
#include "slimformer/nn/linear.h"

namespace slimformer::models {

struct SpanLogits {
  torch::Tensor start, end;  // [B, S]
};

class EncoderModelImpl : public torch::nn::Module, public ModelTree {
 public:
  explicit EncoderModelImpl(const TransformerConfig& config);

  // Hidden states [B, S, D] of tokens [B, S] with segment ids [B, S] (undefined: all 0); padding
  // (config.pad_token_id) is masked out of attention. Reports "encoder.embeddings" and the
  // stack's taps when given.
  torch::Tensor encode(const torch::Tensor& tokens, const torch::Tensor& segments = {},
                       nn::Taps* taps = nullptr);

  // The steps of encode, for callers that run parts of the stack (a decomposed encoder runs the
  // lower layers on each segment alone):
  // token, position and segment embeddings, normalized, for positions start .. start + S - 1;
  torch::Tensor embed(const torch::Tensor& tokens, const torch::Tensor& segments = {},
                      int64_t start = 0);
  // the attention mask of a token batch (true at padding), [B, 1, 1, S];
  // the mask of the layers below separate_layers: also true between tokens of different
  // segments, [B, 1, S, S];
  torch::Tensor segment_mask(const torch::Tensor& tokens, const torch::Tensor& segments) const;
  torch::Tensor padding_mask(const torch::Tensor& tokens) const;
  // layers [begin, end) (end -1: to the last) on hidden states whose first token sits at
  // `position`.
  torch::Tensor run_layers(const torch::Tensor& hidden, const torch::Tensor& mask, int64_t begin,
                           int64_t end, int64_t position = 0, nn::Taps* taps = nullptr);

  // Masked-LM logits [B, S, V] (encoder_head mlm).
  torch::Tensor mlm_logits(const torch::Tensor& hidden);
  // Class logits, or the regression score when num_labels is 1: [B, num_labels].
  torch::Tensor classify(const torch::Tensor& hidden);
  SpanLogits span_logits(const torch::Tensor& hidden);

  // Sets config.separate_layers; a UserError outside [0, encoder_layers].
  void set_separate_layers(int64_t k);

  // Reinitializes all parameters from config.init_seed (initialize_model).
  void initialize();

  const TransformerConfig& config() const override { return config_; }
  std::vector<nn::Sublayer> sublayers() override { return encoder->sublayers(); }
  torch::nn::Module& module() override { return *this; }

  nn::Embedding embed_tokens{nullptr}, embed_positions{nullptr}, embed_segments{nullptr};
  nn::Norm embed_norm{nullptr};
  TransformerStack encoder{nullptr};
  nn::Linear pooler{nullptr};
  // Heads: only the one the config names exists.
  nn::Linear mlm_transform{nullptr};
  nn::Norm mlm_norm{nullptr};
  torch::Tensor mlm_bias;
  nn::Linear classifier{nullptr}, span_head{nullptr};

 protected:
  TransformerConfig& mutable_config() override { return config_; }

 private:
  void require_head(const char* head) const;
  TransformerConfig config_;
  nn::PositionTable sinusoids_ = nn::sinusoid_table(config_.d_model);
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(EncoderModel);

}  // namespace slimformer::models
