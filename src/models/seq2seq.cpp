#include "slimformer/models/seq2seq.h"

#include <fmt/format.h>

#include <algorithm>
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

EncoderOutput EncoderOutput::index_select(const torch::Tensor& order) const {
  return {memory.index_select(0, order), mask.index_select(0, order)};
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

TransformerStackImpl::TransformerStackImpl(std::vector<TransformerLayer> layer_list,
                                           int64_t d_model, bool pre_norm) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (auto& layer : layer_list) layers->push_back(layer);
  if (pre_norm)
    final_norm =
        register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_model})));
}

Seq2SeqTransformerImpl::Seq2SeqTransformerImpl(const TransformerConfig& config) : config_(config) {
  config_.validate("config");
  const int64_t d = config.d_model;
  encoder_embed_tokens =
      register_module("encoder_embed_tokens", torch::nn::Embedding(config.vocab_size, d));
  // Shared embeddings: the decoder reads the encoder's table (one parameter, one name).
  decoder_embed_tokens =
      config.share_embeddings
          ? encoder_embed_tokens
          : register_module("decoder_embed_tokens", torch::nn::Embedding(config.vocab_size, d));
  if (config.position_embedding == "learned") {
    encoder_embed_positions = register_module(
        "encoder_embed_positions", torch::nn::Embedding(config.max_position_embeddings, d));
    decoder_embed_positions = register_module(
        "decoder_embed_positions", torch::nn::Embedding(config.max_position_embeddings, d));
  }
  embed_dropout = register_module("embed_dropout", torch::nn::Dropout(config.dropout));
  encoder = register_module("encoder", build_stack("encoder", config.encoder_layers, false));
  decoder = register_module("decoder", build_stack("decoder", config.decoder_layers, true));
  if (!config.tie_word_embeddings)
    lm_head = register_module(
        "lm_head", torch::nn::Linear(torch::nn::LinearOptions(d, config.vocab_size).bias(false)));
  initialize();
  for (const auto& path : config.removed_sublayers) sublayer(path)->remove();
}

TransformerStack Seq2SeqTransformerImpl::build_stack(const std::string& name, int64_t count,
                                                     bool decoder_side) {
  const auto& c = config_;
  const int64_t heads = decoder_side ? c.decoder_attention_heads : c.encoder_attention_heads;
  const int64_t ffn_dim = decoder_side ? c.decoder_ffn_dim : c.encoder_ffn_dim;
  auto make = [&](const std::string& path, nn::SublayerType type,
                  std::shared_ptr<nn::BlockImpl> block) {
    return nn::Sublayer(nn::SublayerOptions{path, type, c.d_model, c.normalize_before, c.dropout},
                        std::move(block));
  };
  std::vector<TransformerLayer> layers;
  for (int64_t i = 0; i < count; ++i) {
    const std::string prefix = fmt::format("{}.layers.{}.", name, i);
    auto attention = [&](bool cross) {
      return std::make_shared<nn::SoftmaxAttentionImpl>(nn::AttentionOptions{
          c.d_model, heads, c.attention_dropout, cross, /*causal=*/decoder_side && !cross});
    };
    nn::Sublayer self =
        make(prefix + "self_attn", nn::SublayerType::kSelfAttention, attention(false));
    nn::Sublayer cross{nullptr};
    if (decoder_side)
      cross = make(prefix + "cross_attn", nn::SublayerType::kCrossAttention, attention(true));
    nn::Sublayer ffn = make(prefix + "ffn", nn::SublayerType::kFeedForward,
                            std::make_shared<nn::FeedForwardImpl>(nn::FeedForwardOptions{
                                c.d_model, ffn_dim, c.activation_function, c.activation_dropout}));
    layers.emplace_back(std::move(self), std::move(cross), std::move(ffn));
  }
  return TransformerStack(std::move(layers), c.d_model, c.normalize_before);
}

void Seq2SeqTransformerImpl::initialize() {
  torch::NoGradGuard no_grad;
  torch::manual_seed(static_cast<uint64_t>(config_.init_seed));
  for (auto& item : named_parameters()) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    const bool is_norm = name.find("norm.") != std::string::npos;
    if (name.find("embed_tokens") != std::string::npos) {
      p.normal_(0.0, std::pow(static_cast<double>(config_.d_model), -0.5));
      p[config_.pad_token_id].zero_();
    } else if (name.find("embed_positions") != std::string::npos) {
      p.normal_(0.0, std::pow(static_cast<double>(config_.d_model), -0.5));
    } else if (is_norm) {
      name.ends_with("weight") ? p.fill_(1.0) : p.zero_();
    } else if (p.dim() >= 2) {
      torch::nn::init::xavier_uniform_(p);
    } else {
      p.zero_();
    }
  }
}

torch::Tensor Seq2SeqTransformerImpl::embed(const torch::Tensor& tokens,
                                            torch::nn::Embedding& table,
                                            torch::nn::Embedding& positions, int64_t start) {
  const int64_t length = tokens.size(1);
  if (start + length > config_.max_position_embeddings)
    throw core::UserError(fmt::format("sequence of {} tokens exceeds max_position_embeddings {}",
                                      start + length, config_.max_position_embeddings));
  torch::Tensor x = table(tokens);
  if (config_.scale_embedding) x = x * std::sqrt(static_cast<double>(config_.d_model));
  if (positions) {
    x = x + positions(torch::arange(start, start + length, tokens.options()));
  } else {
    x = x + nn::sinusoidal_positions(length, config_.d_model, start, tokens.device());
  }
  return embed_dropout(x);
}

EncoderOutput Seq2SeqTransformerImpl::encode(const torch::Tensor& src) {
  torch::Tensor mask = src.eq(config_.pad_token_id).unsqueeze(1).unsqueeze(1);
  torch::Tensor x = embed(src, encoder_embed_tokens, encoder_embed_positions, 0);
  nn::BlockContext context;
  context.self_mask = mask;
  for (const auto& layer : *encoder->layers)
    x = layer->as<TransformerLayerImpl>()->forward(x, context, nullptr);
  if (encoder->final_norm) x = encoder->final_norm(x);
  return {x, mask};
}

torch::Tensor Seq2SeqTransformerImpl::decode(const torch::Tensor& tgt, const EncoderOutput& encoded,
                                             DecoderCache* cache) {
  const int64_t start = cache ? cache->steps : 0;
  torch::Tensor x = embed(tgt, decoder_embed_tokens, decoder_embed_positions, start);
  nn::BlockContext context;
  context.memory = encoded.memory;
  context.memory_mask = encoded.mask;  // causal masking is the self-attention block's own
  for (size_t i = 0; i < decoder->layers->size(); ++i) {
    LayerCache* layer_cache = cache ? &cache->layers[i] : nullptr;
    x = decoder->layers[i]->as<TransformerLayerImpl>()->forward(x, context, layer_cache);
  }
  if (decoder->final_norm) x = decoder->final_norm(x);
  if (cache) cache->steps += tgt.size(1);
  return lm_head ? lm_head(x) : torch::matmul(x, decoder_embed_tokens->weight.t());
}

torch::Tensor Seq2SeqTransformerImpl::forward(const torch::Tensor& src,
                                              const torch::Tensor& tgt_in) {
  return decode(tgt_in, encode(src));
}

DecoderCache Seq2SeqTransformerImpl::make_cache() const {
  DecoderCache cache;
  cache.layers.resize(decoder->layers->size());
  return cache;
}

std::vector<nn::Sublayer> Seq2SeqTransformerImpl::sublayers() {
  std::vector<nn::Sublayer> out;
  for (auto* stack : {&encoder, &decoder}) {
    for (const auto& module : *(*stack)->layers) {
      auto* layer = module->as<TransformerLayerImpl>();
      out.push_back(layer->self_attn);
      if (layer->cross_attn) out.push_back(layer->cross_attn);
      out.push_back(layer->ffn);
    }
  }
  return out;
}

void Seq2SeqTransformerImpl::remove(const std::string& path) {
  sublayer(path)->remove();
  auto& removed = config_.removed_sublayers;
  if (std::find(removed.begin(), removed.end(), path) == removed.end()) removed.push_back(path);
}

}  // namespace slimformer::models
