#include "slimformer/models/architecture.h"

#include <fmt/format.h>

#include "slimformer/core/error.h"

namespace slimformer::models {

namespace {

// (Not C++20's starts_with and ends_with: the fuzz build compiles this file as C++17, the
// newest standard in which clang accepts LibTorch's headers.)
bool has_prefix(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}
bool has_suffix(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
bool is_decoder_side(const std::string& path) { return has_prefix(path, "decoder."); }
bool is_cross(const std::string& path) { return has_suffix(path, ".cross_attn"); }

void add_stack(std::vector<std::string>& out, const std::string& name, int64_t layers, bool cross) {
  for (int64_t i = 0; i < layers; ++i) {
    const std::string prefix = fmt::format("{}.layers.{}.", name, i);
    out.push_back(prefix + "self_attn");
    if (cross) out.push_back(prefix + "cross_attn");
    out.push_back(prefix + "ffn");
  }
}

}  // namespace

std::vector<std::string> sublayer_paths(const TransformerConfig& c) {
  std::vector<std::string> out;
  if (!c.is_causal_lm()) add_stack(out, "encoder", c.encoder_layers, false);
  if (!c.is_encoder()) add_stack(out, "decoder", c.decoder_layers, !c.is_causal_lm());
  return out;
}

nn::BlockRole sublayer_role(const std::string& path) {
  return has_suffix(path, ".ffn") ? nn::BlockRole::kFeedForward : nn::BlockRole::kAttention;
}

nn::BlockSpec default_block_spec(const TransformerConfig& c, const std::string& path) {
  const bool decoder = is_decoder_side(path);
  if (sublayer_role(path) == nn::BlockRole::kFeedForward)
    return {"ffn",
            {{"hidden_dim", decoder ? c.decoder_ffn_dim : c.encoder_ffn_dim},
             {"activation", c.activation_function},
             {"gated", c.ffn_gated},
             {"bias", c.use_bias}}};
  const bool cross = is_cross(path);
  const int64_t heads = decoder ? c.decoder_attention_heads : c.encoder_attention_heads;
  // Key/value heads: 0 when every query head has its own (grouped-query is self-attention's).
  const int64_t kv_heads = !cross && c.num_key_value_heads != heads ? c.num_key_value_heads : 0;
  const bool rotary = !cross && c.position_embedding == "rotary";
  return {"softmax_attention",
          {{"heads", heads},
           {"kv_heads", kv_heads},
           {"head_dim", heads > 0 ? c.d_model / heads : 0},
           {"bias", c.use_bias},
           {"rotary_theta", rotary ? c.rope_theta : 0.0}}};
}

nn::BlockSpec complete_spec(const nn::BlockSpec& given, const nn::BlockSpec& base) {
  if (given.kind != base.kind) return given;
  nn::BlockSpec out = base;
  out.options.update(given.options);
  return out;
}

nn::BlockSpec block_spec(const TransformerConfig& c, const std::string& path) {
  auto it = c.blocks.find(path);
  const nn::BlockSpec fallback = default_block_spec(c, path);
  return it == c.blocks.end() ? fallback : complete_spec(it->second, fallback);
}

nn::BlockEnv block_env(const TransformerConfig& c, const std::string& path) {
  nn::BlockEnv env;
  env.embed_dim = c.d_model;
  env.cross = is_cross(path);
  env.causal = is_decoder_side(path) && !env.cross;
  env.dropout = sublayer_role(path) == nn::BlockRole::kFeedForward ? c.activation_dropout
                                                                   : c.attention_dropout;
  env.where = "blocks." + path;
  return env;
}

}  // namespace slimformer::models
