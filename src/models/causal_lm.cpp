#include "slimformer/models/causal_lm.h"

#include "slimformer/core/error.h"

namespace slimformer::models {

CausalLMImpl::CausalLMImpl(const TransformerConfig& config) : config_(config) {
  config_.validate("config");
  if (!config_.is_causal_lm())
    throw core::UserError("config: model_type " + config_.model_type + " is not a causal_lm");
  const int64_t d = config.d_model;
  embed_tokens = register_module("embed_tokens", make_token_embedding(config_));
  if (config.position_embedding == "learned")
    embed_positions = register_module("embed_positions", make_position_embedding(config_));
  embed_dropout_ = register_module("embed_dropout", torch::nn::Dropout(config.dropout));
  decoder = register_module("decoder", build_stack(config_, "decoder", StackSide::kDecoder, false));
  if (!config.tie_word_embeddings)
    lm_head =
        register_module("lm_head", nn::Linear(nn::LinearOptions(d, config.vocab_size).bias(false)));
  initialize();
  for (const auto& path : config.removed_sublayers) sublayer(path)->remove();
}

void CausalLMImpl::initialize() { initialize_model(*this, config_); }

torch::Tensor CausalLMImpl::embed(const torch::Tensor& tokens, int64_t start) {
  return embed_dropout_(
      embed_sequence(config_, tokens, embed_tokens, embed_positions, sinusoids_, start));
}

torch::Tensor CausalLMImpl::logits(const torch::Tensor& hidden) {
  return lm_head ? lm_head(hidden) : embed_tokens->project(hidden);
}

torch::Tensor CausalLMImpl::forward(const torch::Tensor& tokens, DecodingState* state,
                                    nn::Taps* taps) {
  nn::BlockContext context;
  context.position = state ? state->position : 0;
  context.taps = taps;
  torch::Tensor x = decoder->forward(embed(tokens, context.position), context, state);
  if (state) state->position += tokens.size(1);
  return logits(x);
}

}  // namespace slimformer::models
