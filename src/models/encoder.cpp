#include "slimformer/models/encoder.h"

#include <fmt/format.h>

#include "slimformer/core/error.h"

namespace slimformer::models {

EncoderModelImpl::EncoderModelImpl(const TransformerConfig& config) : config_(config) {
  config_.validate("config");
  if (!config_.is_encoder())
    throw core::UserError("config: model_type " + config_.model_type + " is not an encoder");
  const int64_t d = config.d_model;
  embed_tokens = register_module("embed_tokens", make_token_embedding(config_));
  if (config.position_embedding == "learned")
    embed_positions = register_module("embed_positions", make_position_embedding(config_));
  // Segment embeddings start Xavier-uniform, as every matrix other than the token and position
  // tables does.
  embed_segments = register_module("embed_segments",
                                   nn::Embedding(nn::EmbeddingOptions(config.type_vocab_size, d)));
  embed_norm = register_module("embed_norm",
                               nn::Norm(nn::NormOptions{d, config.norm_type, config.norm_eps}));
  dropout_ = register_module("dropout", torch::nn::Dropout(config.dropout));
  encoder = register_module("encoder", build_stack(config_, "encoder", StackSide::kEncoder, false));
  pooler = register_module("pooler", nn::Linear(d, d));
  if (config.encoder_head == "mlm") {
    mlm_transform = register_module("mlm_transform", nn::Linear(d, d));
    mlm_norm = register_module("mlm_norm",
                               nn::Norm(nn::NormOptions{d, config.norm_type, config.norm_eps}));
    mlm_bias = register_parameter("mlm_bias", torch::zeros({config.vocab_size}));
  } else if (config.encoder_head == "classification") {
    classifier = register_module("classifier", nn::Linear(d, config.num_labels));
  } else {
    span_head = register_module("span_head", nn::Linear(d, 2));
  }
  initialize();
  for (const auto& path : config.removed_sublayers) sublayer(path)->remove();
}

void EncoderModelImpl::initialize() { initialize_model(*this, config_); }

torch::Tensor EncoderModelImpl::embed(const torch::Tensor& tokens, const torch::Tensor& segments,
                                      int64_t start) {
  torch::Tensor x =
      embed_sequence(config_, tokens, embed_tokens, embed_positions, sinusoids_, start) +
      embed_segments(segments.defined() ? segments : torch::zeros_like(tokens));
  return dropout_(embed_norm(x));
}

torch::Tensor EncoderModelImpl::padding_mask(const torch::Tensor& tokens) const {
  return tokens.eq(config_.pad_token_id).unsqueeze(1).unsqueeze(1);
}

torch::Tensor EncoderModelImpl::segment_mask(const torch::Tensor& tokens,
                                             const torch::Tensor& segments) const {
  torch::Tensor across = segments.unsqueeze(2).ne(segments.unsqueeze(1)).unsqueeze(1);
  return across.logical_or(padding_mask(tokens));
}

void EncoderModelImpl::set_separate_layers(int64_t k) {
  if (k < 0 || k > config_.encoder_layers)
    throw core::UserError(fmt::format("separate_layers {} is outside [0, {}], the encoder's layers", k,
                                      config_.encoder_layers));
  config_.separate_layers = k;
}

torch::Tensor EncoderModelImpl::run_layers(const torch::Tensor& hidden, const torch::Tensor& mask,
                                           int64_t begin, int64_t end, int64_t position,
                                           nn::Taps* taps) {
  nn::BlockContext context;
  context.self_mask = mask;
  context.position = position;
  context.taps = taps;
  return encoder->forward(hidden, context, nullptr, begin, end);
}

torch::Tensor EncoderModelImpl::encode(const torch::Tensor& tokens, const torch::Tensor& segments,
                                       nn::Taps* taps) {
  torch::Tensor x = embed(tokens, segments);
  if (taps && taps->wants("encoder.embeddings")) taps->put("encoder.embeddings", x);
  const int64_t k = config_.separate_layers;
  if (k == 0 || !segments.defined()) return run_layers(x, padding_mask(tokens), 0, -1, 0, taps);
  x = run_layers(x, segment_mask(tokens, segments), 0, k, 0, taps);
  return run_layers(x, padding_mask(tokens), k, -1, 0, taps);
}

void EncoderModelImpl::require_head(const char* head) const {
  if (config_.encoder_head != head)
    throw core::UserError(
        fmt::format("this encoder has a {} head, not {}", config_.encoder_head, head));
}

torch::Tensor EncoderModelImpl::mlm_logits(const torch::Tensor& hidden) {
  require_head("mlm");
  torch::Tensor h = mlm_norm(torch::gelu(mlm_transform(hidden)));
  return embed_tokens->project(h) + mlm_bias;
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
