#include "slimformer/models/transformer_stack.h"

#include <fmt/format.h>

#include <cmath>

#include "slimformer/core/error.h"
#include "slimformer/nn/feed_forward.h"
#include "slimformer/nn/positions.h"

namespace slimformer::models {

void DecoderCache::reorder(const torch::Tensor& order) {
  for (auto& layer : layers) {
    layer.self_attn.reorder(order);
    layer.cross_attn.reorder(order);
  }
}

TransformerLayerImpl::TransformerLayerImpl(nn::Sublayer self_attn_, nn::Sublayer cross_attn_,
                                           nn::Sublayer ffn_) {
  self_attn = register_module("self_attn", std::move(self_attn_));
  if (cross_attn_) cross_attn = register_module("cross_attn", std::move(cross_attn_));
  ffn = register_module("ffn", std::move(ffn_));
}

torch::Tensor TransformerLayerImpl::forward(torch::Tensor x, nn::BlockContext context,
                                            LayerCache* cache) {
  context.cache = cache ? &cache->self_attn : nullptr;
  x = self_attn(x, context);
  if (cross_attn) {
    context.cache = cache ? &cache->cross_attn : nullptr;
    x = cross_attn(x, context);
  }
  context.cache = nullptr;
  return ffn(x, context);
}

TransformerStackImpl::TransformerStackImpl(
    std::vector<TransformerLayer> layer_list,
    const std::optional<nn::NormOptions>& final_norm_options) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (auto& layer : layer_list) layers->push_back(layer);
  if (final_norm_options) final_norm = register_module("final_norm", nn::Norm(*final_norm_options));
}

torch::Tensor TransformerStackImpl::forward(torch::Tensor x, const nn::BlockContext& context,
                                            DecoderCache* cache) {
  for (size_t i = 0; i < layers->size(); ++i)
    x = layers[i]->as<TransformerLayerImpl>()->forward(x, context,
                                                       cache ? &cache->layers[i] : nullptr);
  return final_norm ? final_norm(x) : x;
}

std::vector<nn::Sublayer> TransformerStackImpl::sublayers() {
  std::vector<nn::Sublayer> out;
  for (const auto& module : *layers) {
    auto* layer = module->as<TransformerLayerImpl>();
    out.push_back(layer->self_attn);
    if (layer->cross_attn) out.push_back(layer->cross_attn);
    out.push_back(layer->ffn);
  }
  return out;
}

TransformerStack build_stack(const TransformerConfig& c, const std::string& name, StackSide side,
                             bool cross_attention) {
  const bool decoder_side = side == StackSide::kDecoder;
  const int64_t count = decoder_side ? c.decoder_layers : c.encoder_layers;
  const int64_t heads = decoder_side ? c.decoder_attention_heads : c.encoder_attention_heads;
  const int64_t ffn_dim = decoder_side ? c.decoder_ffn_dim : c.encoder_ffn_dim;
  const double rotary = c.position_embedding == "rotary" ? c.rope_theta : 0.0;
  auto make = [&](const std::string& path, nn::SublayerType type,
                  std::shared_ptr<nn::BlockImpl> block) {
    return nn::Sublayer(nn::SublayerOptions{path, type, c.d_model, c.normalize_before, c.dropout,
                                            c.norm_type, c.norm_eps},
                        std::move(block));
  };
  auto attention = [&](bool cross) {
    nn::AttentionOptions options{c.d_model, heads, c.attention_dropout, cross,
                                 /*causal=*/decoder_side && !cross};
    options.num_kv_heads = cross ? 0 : c.num_key_value_heads;
    options.bias = c.use_bias;
    options.rotary_theta = cross ? 0.0 : rotary;
    return std::make_shared<nn::SoftmaxAttentionImpl>(options);
  };
  nn::FeedForwardOptions ffn_options{
      c.d_model, ffn_dim, c.activation_function, c.activation_dropout, c.ffn_gated, c.use_bias};
  std::vector<TransformerLayer> layers;
  for (int64_t i = 0; i < count; ++i) {
    const std::string prefix = fmt::format("{}.layers.{}.", name, i);
    nn::Sublayer self =
        make(prefix + "self_attn", nn::SublayerType::kSelfAttention, attention(false));
    nn::Sublayer cross{nullptr};
    if (cross_attention)
      cross = make(prefix + "cross_attn", nn::SublayerType::kCrossAttention, attention(true));
    nn::Sublayer ffn = make(prefix + "ffn", nn::SublayerType::kFeedForward,
                            std::make_shared<nn::FeedForwardImpl>(ffn_options));
    layers.emplace_back(std::move(self), std::move(cross), std::move(ffn));
  }
  // Post-norm layers end normalized; a pre-norm stack needs a norm after its last layer.
  std::optional<nn::NormOptions> final_norm;
  if (c.normalize_before) final_norm = nn::NormOptions{c.d_model, c.norm_type, c.norm_eps};
  return TransformerStack(std::move(layers), final_norm);
}

torch::Tensor embed_sequence(const TransformerConfig& config, const torch::Tensor& tokens,
                             torch::nn::Embedding& table, torch::nn::Embedding& positions,
                             int64_t start) {
  const int64_t length = tokens.size(1);
  if (start + length > config.max_position_embeddings)
    throw core::UserError(fmt::format("sequence of {} tokens exceeds max_position_embeddings {}",
                                      start + length, config.max_position_embeddings));
  torch::Tensor x = table(tokens);
  if (config.scale_embedding) x = x * std::sqrt(static_cast<double>(config.d_model));
  if (positions) {
    x = x + positions(torch::arange(start, start + length, tokens.options()));
  } else if (config.position_embedding == "sinusoidal") {
    x = x + nn::sinusoidal_positions(length, config.d_model, start, tokens.device());
  }
  return x;
}

void initialize_parameters(torch::nn::Module& module, const TransformerConfig& config) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(static_cast<uint64_t>(config.init_seed));
  const double embed_std = std::pow(static_cast<double>(config.d_model), -0.5);
  for (auto& item : module.named_parameters()) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    const bool is_norm = name.find("norm.") != std::string::npos;
    if (name.find("embed_tokens") != std::string::npos) {
      p.normal_(0.0, embed_std);
      p[config.pad_token_id].zero_();
    } else if (name.find("embed_positions") != std::string::npos) {
      p.normal_(0.0, embed_std);
    } else if (is_norm) {
      name.ends_with("weight") ? p.fill_(1.0) : p.zero_();
    } else if (p.dim() >= 2) {
      torch::nn::init::xavier_uniform_(p);
    } else {
      p.zero_();
    }
  }
}

}  // namespace slimformer::models
