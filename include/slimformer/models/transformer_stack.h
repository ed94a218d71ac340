// The parts every Transformer family shares: a layer of sublayers, a stack of layers with its
// optional final norm, the decoding state of a stack, the stack builder that turns a config into
// sublayers with their paths and blocks, token embedding, and seeded initialization.
//
// A stack runs all its layers or a range [begin, end) of them (running [0, k) and then [k, n)
// equals running [0, n)), and reports named taps when the context carries a Taps:
//   "<stack>.layers.<i>"                 the hidden state after layer i
//   "<sublayer path>"                    a sublayer's output (after its residual and norm)
//   "<sublayer path>.attention_probs"    attention weights [B, heads, T, S] (softmax attention)
//   "<stack>.output"                     the stack's output (after its final norm, if any)
#pragma once

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "slimformer/models/transformer_config.h"
#include "slimformer/nn/embedding.h"
#include "slimformer/nn/norm.h"
#include "slimformer/nn/positions.h"
#include "slimformer/nn/sublayer.h"

namespace slimformer::models {

// What a stack keeps between decoding steps: the state each block created (a key/value cache,
// a recurrent state; none for feed-forward blocks), one slot per sublayer in forward order, and
// the position of the next token.
struct DecodingState {
  std::vector<std::unique_ptr<nn::BlockState>> blocks;
  int64_t position = 0;
  // Keeps the rows `order` of every block's state (beam search, dropping finished sequences).
  void reorder(const torch::Tensor& order, nn::Reorder scope = nn::Reorder::kAny);
  int64_t bytes() const;
};

// One Transformer layer: self-attention, optional cross-attention, feed-forward.
class TransformerLayerImpl : public torch::nn::Module {
 public:
  TransformerLayerImpl(nn::Sublayer self_attn, nn::Sublayer cross_attn, nn::Sublayer ffn);
  // The layer's sublayers in forward order.
  const std::vector<nn::Sublayer>& sublayers() const { return sublayers_; }
  nn::Sublayer self_attn{nullptr}, cross_attn{nullptr}, ffn{nullptr};

 private:
  std::vector<nn::Sublayer> sublayers_;
};
TORCH_MODULE(TransformerLayer);

// A stack of layers, with the final norm that pre-norm stacks need.
class TransformerStackImpl : public torch::nn::Module {
 public:
  // `name` prefixes the stack's paths and taps ("encoder", "decoder"); `final_norm`: the norm
  // after the last layer, if the stack has one.
  TransformerStackImpl(std::string name, std::vector<TransformerLayer> layers,
                       const std::optional<nn::NormOptions>& final_norm);
  // Runs layers [begin, end) (end -1: to the last), then the final norm when the range runs the
  // last layer. `state`, when given, is this stack's decoding state.
  torch::Tensor forward(torch::Tensor x, const nn::BlockContext& context,
                        DecodingState* state = nullptr, int64_t begin = 0, int64_t end = -1);
  // A fresh decoding state: what each present block keeps between steps, with room for
  // sequences of `max_length` positions (0: grown as needed).
  DecodingState make_state(int64_t max_length = 0) const;
  int64_t num_layers() const { return static_cast<int64_t>(layers->size()); }
  const std::string& name() const { return name_; }
  // The sublayers of every layer in forward order.
  std::vector<nn::Sublayer> sublayers() const;
  torch::nn::ModuleList layers{nullptr};
  nn::Norm final_norm{nullptr};

 private:
  std::string name_;
  std::vector<std::string> layer_names_;  // "<stack>.layers.<i>", for taps
};
TORCH_MODULE(TransformerStack);

enum class StackSide { kEncoder, kDecoder };

// Builds `<name>.layers.i.{self_attn, [cross_attn], ffn}` with each sublayer's block built through
// the block registry from the config (models/architecture.h). Decoder self-attention is causal;
// `cross_attention` adds the encoder-decoder attention.
TransformerStack build_stack(const TransformerConfig& config, const std::string& name,
                             StackSide side, bool cross_attention);

// Token embeddings (scaled by sqrt(d_model) when configured) plus learned or sinusoidal
// positions (from `sinusoids`, nn::sinusoid_table(d_model)) for start .. start + T - 1; rotary
// positions are applied inside attention instead.
torch::Tensor embed_sequence(const TransformerConfig& config, const torch::Tensor& tokens,
                             nn::Embedding& table, nn::Embedding& positions,
                             nn::PositionTable& sinusoids, int64_t start);

// The token and position tables of a config: N(0, d^-1/2), the padding row of tokens zero.
nn::Embedding make_token_embedding(const TransformerConfig& config);
nn::Embedding make_position_embedding(const TransformerConfig& config);

// Seeded initialization of a whole model from config.init_seed: every part resets itself in
// registration order (xavier-uniform matrices, zero biases, N(0, d^-1/2) embeddings with the
// padding row zero, unit norms; a block of another kind as that kind initializes).
void initialize_model(torch::nn::Module& model, const TransformerConfig& config);

}  // namespace slimformer::models
