#include "slimformer/models/seq2seq.h"

#include <fmt/format.h>

#include <cmath>

#include "slimformer/core/error.h"

namespace slimformer::models {

EncoderOutput EncoderOutput::index_select(const torch::Tensor& order) const {
  return {memory.index_select(0, order),
          mask.defined() ? mask.index_select(0, order) : torch::Tensor()};
}

Seq2SeqTransformerImpl::Seq2SeqTransformerImpl(const TransformerConfig& config) : config_(config) {
  config_.validate("config");
  if (config_.is_causal_lm())
    throw core::UserError("config: model_type causal_lm is not an encoder-decoder model");
  const int64_t d = config.d_model;
  encoder_embed_tokens = register_module("encoder_embed_tokens", make_token_embedding(config_));
  // Shared embeddings: the decoder reads the encoder's table (one parameter, one name).
  decoder_embed_tokens = config.share_embeddings ? encoder_embed_tokens
                                                 : register_module("decoder_embed_tokens",
                                                                   make_token_embedding(config_));
  if (config.position_embedding == "learned") {
    encoder_embed_positions =
        register_module("encoder_embed_positions", make_position_embedding(config_));
    decoder_embed_positions =
        register_module("decoder_embed_positions", make_position_embedding(config_));
  }
  embed_dropout = register_module("embed_dropout", torch::nn::Dropout(config.dropout));
  encoder = register_module("encoder", build_stack(config_, "encoder", StackSide::kEncoder, false));
  decoder = register_module("decoder", build_stack(config_, "decoder", StackSide::kDecoder, true));
  if (!config.tie_word_embeddings)
    lm_head =
        register_module("lm_head", nn::Linear(nn::LinearOptions(d, config.vocab_size).bias(false)));
  initialize();
  for (const auto& path : config.removed_sublayers) sublayer(path)->remove();
}

void Seq2SeqTransformerImpl::initialize() { initialize_model(*this, config_); }

torch::Tensor Seq2SeqTransformerImpl::embed_source(const torch::Tensor& src, int64_t start) {
  return embed_dropout(embed_sequence(config_, src, encoder_embed_tokens, encoder_embed_positions,
                                      sinusoids_, start));
}

torch::Tensor Seq2SeqTransformerImpl::embed_target(const torch::Tensor& tgt, int64_t start) {
  return embed_dropout(embed_sequence(config_, tgt, decoder_embed_tokens, decoder_embed_positions,
                                      sinusoids_, start));
}

torch::Tensor Seq2SeqTransformerImpl::logits(const torch::Tensor& hidden) {
  return lm_head ? lm_head(hidden) : decoder_embed_tokens->project(hidden);
}

EncoderOutput Seq2SeqTransformerImpl::encode(const torch::Tensor& src, nn::Taps* taps) {
  torch::Tensor mask = src.eq(config_.pad_token_id).unsqueeze(1).unsqueeze(1);
  // Without padding nothing is masked: attention skips the mask (every decoding step gains).
  if (!mask.any().item<bool>()) mask = torch::Tensor();
  nn::BlockContext context;
  context.self_mask = mask;
  context.taps = taps;
  return {encoder->forward(embed_source(src), context), mask};
}

torch::Tensor Seq2SeqTransformerImpl::decode(const torch::Tensor& tgt, const EncoderOutput& encoded,
                                             DecodingState* state, nn::Taps* taps) {
  nn::BlockContext context;
  context.position = state ? state->position : 0;
  context.memory = encoded.memory;
  context.memory_mask = encoded.mask;  // causal masking is the self-attention block's own
  context.taps = taps;
  torch::Tensor x = decoder->forward(embed_target(tgt, context.position), context, state);
  if (state) state->position += tgt.size(1);
  return logits(x);
}

torch::Tensor Seq2SeqTransformerImpl::forward(const torch::Tensor& src,
                                              const torch::Tensor& tgt_in) {
  return decode(tgt_in, encode(src));
}

std::vector<nn::Sublayer> Seq2SeqTransformerImpl::sublayers() {
  auto out = encoder->sublayers();
  for (auto& s : decoder->sublayers()) out.push_back(s);
  return out;
}

}  // namespace slimformer::models
