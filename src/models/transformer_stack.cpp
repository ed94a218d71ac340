#include "slimformer/models/transformer_stack.h"

#include <fmt/format.h>

#include <cmath>

#include "slimformer/core/error.h"
#include "slimformer/models/architecture.h"
#include "slimformer/nn/block_registry.h"
#include "slimformer/nn/positions.h"

namespace slimformer::models {

void DecodingState::reorder(const torch::Tensor& order, nn::Reorder scope) {
  for (auto& block : blocks)
    if (block) block->reorder(order, scope);
}

int64_t DecodingState::bytes() const {
  int64_t total = 0;
  for (const auto& block : blocks)
    if (block) total += block->bytes();
  return total;
}

TransformerLayerImpl::TransformerLayerImpl(nn::Sublayer self_attn_, nn::Sublayer cross_attn_,
                                           nn::Sublayer ffn_) {
  self_attn = register_module("self_attn", std::move(self_attn_));
  sublayers_.push_back(self_attn);
  if (cross_attn_) {
    cross_attn = register_module("cross_attn", std::move(cross_attn_));
    sublayers_.push_back(cross_attn);
  }
  ffn = register_module("ffn", std::move(ffn_));
  sublayers_.push_back(ffn);
}

TransformerStackImpl::TransformerStackImpl(std::string name,
                                           std::vector<TransformerLayer> layer_list,
                                           const std::optional<nn::NormOptions>& final_norm_options)
    : name_(std::move(name)) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (auto& layer : layer_list) {
    layer_names_.push_back(fmt::format("{}.layers.{}", name_, layers->size()));
    layers->push_back(layer);
  }
  if (final_norm_options) final_norm = register_module("final_norm", nn::Norm(*final_norm_options));
}

torch::Tensor TransformerStackImpl::forward(torch::Tensor x, const nn::BlockContext& context,
                                            DecodingState* state, int64_t begin, int64_t end) {
  const int64_t n = num_layers();
  if (end < 0) end = n;
  TORCH_CHECK(0 <= begin && begin <= end && end <= n, "stack ", name_, ": layer range [", begin,
              ", ", end, ") is outside [0, ", n, ")");
  nn::BlockContext ctx = context;
  nn::Taps* taps = context.taps;
  for (int64_t i = begin; i < end; ++i) {
    const auto& sublayers = layers[i]->as<TransformerLayerImpl>()->sublayers();
    // Every layer has the same sublayers, so a layer's states start at i * per-layer count.
    const size_t first = static_cast<size_t>(i) * sublayers.size();
    for (size_t j = 0; j < sublayers.size(); ++j) {
      ctx.state = state ? state->blocks[first + j].get() : nullptr;
      x = sublayers[j].ptr()->forward(x, ctx);
      if (taps && taps->wants(sublayers[j]->path())) taps->put(sublayers[j]->path(), x);
    }
    if (taps && taps->wants(layer_names_[i])) taps->put(layer_names_[i], x);
  }
  // The final norm belongs to the range that runs the last layer, so that ranges compose.
  if (end < n || begin == end) return x;
  if (final_norm) x = final_norm(x);
  if (taps && taps->wants(name_ + ".output")) taps->put(name_ + ".output", x);
  return x;
}

DecodingState TransformerStackImpl::make_state(int64_t max_length) const {
  DecodingState state;
  for (const auto& s : sublayers())
    state.blocks.push_back(s->removed() ? nullptr : s->block()->make_state(max_length));
  return state;
}

std::vector<nn::Sublayer> TransformerStackImpl::sublayers() const {
  std::vector<nn::Sublayer> out;
  for (const auto& module : *layers)
    for (const auto& s : module->as<TransformerLayerImpl>()->sublayers()) out.push_back(s);
  return out;
}

TransformerStack build_stack(const TransformerConfig& c, const std::string& name, StackSide side,
                             bool cross_attention) {
  const int64_t count = side == StackSide::kDecoder ? c.decoder_layers : c.encoder_layers;
  auto make = [&](const std::string& path, nn::SublayerType type) {
    auto block = nn::build_block(block_spec(c, path), sublayer_role(path), block_env(c, path));
    return nn::Sublayer(nn::SublayerOptions{path, type, c.d_model, c.normalize_before, c.dropout,
                                            c.norm_type, c.norm_eps},
                        std::move(block));
  };
  std::vector<TransformerLayer> layers;
  for (int64_t i = 0; i < count; ++i) {
    const std::string prefix = fmt::format("{}.layers.{}.", name, i);
    nn::Sublayer self = make(prefix + "self_attn", nn::SublayerType::kSelfAttention);
    nn::Sublayer cross{nullptr};
    if (cross_attention) cross = make(prefix + "cross_attn", nn::SublayerType::kCrossAttention);
    nn::Sublayer ffn = make(prefix + "ffn", nn::SublayerType::kFeedForward);
    layers.emplace_back(std::move(self), std::move(cross), std::move(ffn));
  }
  // Post-norm layers end normalized; a pre-norm stack needs a norm after its last layer.
  std::optional<nn::NormOptions> final_norm;
  if (c.normalize_before) final_norm = nn::NormOptions{c.d_model, c.norm_type, c.norm_eps};
  return TransformerStack(name, std::move(layers), final_norm);
}

torch::Tensor embed_sequence(const TransformerConfig& config, const torch::Tensor& tokens,
                             nn::Embedding& table, nn::Embedding& positions,
                             nn::PositionTable& sinusoids, int64_t start) {
  const int64_t length = tokens.size(1);
  if (start + length > config.max_position_embeddings)
    throw core::UserError(fmt::format("sequence of {} tokens exceeds max_position_embeddings {}",
                                      start + length, config.max_position_embeddings));
  torch::Tensor x = table(tokens);
  if (config.scale_embedding) x = x * std::sqrt(static_cast<double>(config.d_model));
  if (positions) {
    x = x + positions(torch::arange(start, start + length, tokens.options()));
  } else if (config.position_embedding == "sinusoidal") {
    x = x + sinusoids.rows(start, length, tokens.device());
  }
  return x;
}

nn::Embedding make_token_embedding(const TransformerConfig& c) {
  return nn::Embedding(nn::EmbeddingOptions(c.vocab_size, c.d_model)
                           .padding_idx(c.pad_token_id)
                           .init_std(std::pow(static_cast<double>(c.d_model), -0.5)));
}

nn::Embedding make_position_embedding(const TransformerConfig& c) {
  return nn::Embedding(nn::EmbeddingOptions(c.max_position_embeddings, c.d_model)
                           .init_std(std::pow(static_cast<double>(c.d_model), -0.5)));
}

void initialize_model(torch::nn::Module& model, const TransformerConfig& config) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(static_cast<uint64_t>(config.init_seed));
  nn::reset_children(model);
  // Parameters a model holds directly (a bias of its own) start at zero.
  for (auto& p : model.parameters(/*recurse=*/false)) p.zero_();
}

}  // namespace slimformer::models
