#include "slimformer/models/causal_lm.h"

#include "slimformer/core/error.h"

namespace slimformer::models {

CausalLMImpl::CausalLMImpl(const TransformerConfig& config) : config_(config) {
  config_.validate("config");
  if (!config_.is_causal_lm())
    throw core::UserError("config: model_type " + config_.model_type + " is not a causal_lm");
  const int64_t d = config.d_model;
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(config.vocab_size, d));
  if (config.position_embedding == "learned")
    embed_positions =
        register_module("embed_positions", torch::nn::Embedding(config.max_position_embeddings, d));
  embed_dropout_ = register_module("embed_dropout", torch::nn::Dropout(config.dropout));
  decoder = register_module("decoder", build_stack(config_, "decoder", StackSide::kDecoder, false));
  if (!config.tie_word_embeddings)
    lm_head = register_module(
        "lm_head", torch::nn::Linear(torch::nn::LinearOptions(d, config.vocab_size).bias(false)));
  initialize();
  for (const auto& path : config.removed_sublayers) sublayer(path)->remove();
}

void CausalLMImpl::initialize() { initialize_parameters(*this, config_); }

torch::Tensor CausalLMImpl::forward(const torch::Tensor& tokens, DecoderCache* cache) {
  const int64_t start = cache ? cache->steps : 0;
  torch::Tensor x =
      embed_dropout_(embed_sequence(config_, tokens, embed_tokens, embed_positions, start));
  x = decoder->forward(x, nn::BlockContext{}, cache);
  if (cache) cache->steps += tokens.size(1);
  return lm_head ? lm_head(x) : torch::matmul(x, embed_tokens->weight.t());
}

DecoderCache CausalLMImpl::make_cache() const {
  DecoderCache cache;
  cache.layers.resize(decoder->layers->size());
  return cache;
}

}  // namespace slimformer::models
