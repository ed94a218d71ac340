#include "slimformer/models/seq2seq.h"

#include <fmt/format.h>

#include <cmath>

#include "slimformer/core/error.h"

namespace slimformer::models {

EncoderOutput EncoderOutput::index_select(const torch::Tensor& order) const {
  return {memory.index_select(0, order), mask.index_select(0, order)};
}

Seq2SeqTransformerImpl::Seq2SeqTransformerImpl(const TransformerConfig& config) : config_(config) {
  config_.validate("config");
  if (config_.is_causal_lm())
    throw core::UserError("config: model_type causal_lm is not an encoder-decoder model");
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
  encoder = register_module("encoder", build_stack(config_, "encoder", StackSide::kEncoder, false));
  decoder = register_module("decoder", build_stack(config_, "decoder", StackSide::kDecoder, true));
  if (!config.tie_word_embeddings)
    lm_head = register_module(
        "lm_head", torch::nn::Linear(torch::nn::LinearOptions(d, config.vocab_size).bias(false)));
  initialize();
  for (const auto& path : config.removed_sublayers) sublayer(path)->remove();
}

void Seq2SeqTransformerImpl::initialize() { initialize_parameters(*this, config_); }

torch::Tensor Seq2SeqTransformerImpl::embed(const torch::Tensor& tokens,
                                            torch::nn::Embedding& table,
                                            torch::nn::Embedding& positions, int64_t start) {
  return embed_dropout(embed_sequence(config_, tokens, table, positions, start));
}

EncoderOutput Seq2SeqTransformerImpl::encode(const torch::Tensor& src) {
  torch::Tensor mask = src.eq(config_.pad_token_id).unsqueeze(1).unsqueeze(1);
  torch::Tensor x = embed(src, encoder_embed_tokens, encoder_embed_positions, 0);
  nn::BlockContext context;
  context.self_mask = mask;
  return {encoder->forward(x, context, nullptr), mask};
}

torch::Tensor Seq2SeqTransformerImpl::decode(const torch::Tensor& tgt, const EncoderOutput& encoded,
                                             DecoderCache* cache) {
  const int64_t start = cache ? cache->steps : 0;
  torch::Tensor x = embed(tgt, decoder_embed_tokens, decoder_embed_positions, start);
  nn::BlockContext context;
  context.memory = encoded.memory;
  context.memory_mask = encoded.mask;  // causal masking is the self-attention block's own
  x = decoder->forward(x, context, cache);
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
  auto out = encoder->sublayers();
  for (auto& s : decoder->sublayers()) out.push_back(s);
  return out;
}

}  // namespace slimformer::models
