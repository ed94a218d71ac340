#include "slimformer/models/encoder.h"

#include <fmt/format.h>

#include "slimformer/core/error.h"

namespace slimformer::models {

EncoderModelImpl::EncoderModelImpl(const TransformerConfig& config) : config_(config) {
  config_.validate("config");
  if (!config_.is_encoder())
    throw core::UserError("config: model_type " + config_.model_type + " is not an encoder");
  const int64_t d = config.d_model;
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(config.vocab_size, d));
  if (config.position_embedding == "learned")
    embed_positions =
        register_module("embed_positions", torch::nn::Embedding(config.max_position_embeddings, d));
  embed_segments =
      register_module("embed_segments", torch::nn::Embedding(config.type_vocab_size, d));
  embed_norm = register_module("embed_norm",
                               nn::Norm(nn::NormOptions{d, config.norm_type, config.norm_eps}));
  dropout_ = register_module("dropout", torch::nn::Dropout(config.dropout));
  encoder = register_module("encoder", build_stack(config_, "encoder", StackSide::kEncoder, false));
  pooler = register_module("pooler", torch::nn::Linear(d, d));
  if (config.encoder_head == "mlm") {
    mlm_transform = register_module("mlm_transform", torch::nn::Linear(d, d));
    mlm_norm = register_module("mlm_norm",
                               nn::Norm(nn::NormOptions{d, config.norm_type, config.norm_eps}));
    mlm_bias = register_parameter("mlm_bias", torch::zeros({config.vocab_size}));
  } else if (config.encoder_head == "classification") {
    classifier = register_module("classifier", torch::nn::Linear(d, config.num_labels));
  } else {
    span_head = register_module("span_head", torch::nn::Linear(d, 2));
  }
  initialize();
  for (const auto& path : config.removed_sublayers) sublayer(path)->remove();
}

void EncoderModelImpl::initialize() { initialize_parameters(*this, config_); }

torch::Tensor EncoderModelImpl::encode(const torch::Tensor& tokens, const torch::Tensor& segments) {
  torch::Tensor x = embed_sequence(config_, tokens, embed_tokens, embed_positions, 0) +
                    embed_segments(segments.defined() ? segments : torch::zeros_like(tokens));
  x = dropout_(embed_norm(x));
  nn::BlockContext context;
  context.self_mask = tokens.eq(config_.pad_token_id).unsqueeze(1).unsqueeze(1);
  return encoder->forward(x, context, nullptr);
}

void EncoderModelImpl::require_head(const char* head) const {
  if (config_.encoder_head != head)
    throw core::UserError(
        fmt::format("this encoder has a {} head, not {}", config_.encoder_head, head));
}

torch::Tensor EncoderModelImpl::mlm_logits(const torch::Tensor& hidden) {
  require_head("mlm");
  torch::Tensor h = mlm_norm(torch::gelu(mlm_transform(hidden)));
  return torch::matmul(h, embed_tokens->weight.t()) + mlm_bias;
}

torch::Tensor EncoderModelImpl::classify(const torch::Tensor& hidden) {
  require_head("classification");
  torch::Tensor pooled = torch::tanh(pooler(hidden.select(1, 0)));
  return classifier(dropout_(pooled));
}

SpanLogits EncoderModelImpl::span_logits(const torch::Tensor& hidden) {
  require_head("span");
  torch::Tensor logits = span_head(hidden);
  return {logits.select(-1, 0), logits.select(-1, 1)};
}

}  // namespace slimformer::models
