#include "slimformer/models/transformer_config.h"

#include <fmt/format.h>

#include <algorithm>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/models/architecture.h"
#include "slimformer/nn/block_registry.h"

namespace slimformer::models {

using nlohmann::json;

namespace {

using BlockMap = std::map<std::string, nn::BlockSpec>;

template <typename T>
void read_field(const json& j, const char* key, T& out, const std::string& source) {
  if (!j.contains(key)) return;  // absent: keep the default
  try {
    out = j.at(key).get<T>();
  } catch (const json::exception&) {
    throw core::UserError(
        fmt::format("{}: field {} has the wrong type: {}", source, key, j.at(key).dump()));
  }
}

void read_field(const json& j, const char* key, BlockMap& out, const std::string& source) {
  if (!j.contains(key)) return;
  const json& blocks = j.at(key);
  if (!blocks.is_object())
    throw core::UserError(
        fmt::format("{}: field {} must be an object of block specs by path, got {}", source, key,
                    blocks.dump()));
  for (const auto& [path, spec] : blocks.items())
    out[path] = nn::BlockSpec::from_json(spec, fmt::format("{}: {}.{}", source, key, path));
}

json field_json(const BlockMap& blocks) {
  json out = json::object();
  for (const auto& [path, spec] : blocks) out[path] = spec.to_json();
  return out;
}

template <typename T>
json field_json(const T& value) {
  return value;
}

}  // namespace

json TransformerConfig::to_json() const {
  json out = json::object();
  visit_config_fields(*this, [&](const char* name, const auto& field, const char*) {
    out[name] = field_json(field);
  });
  return out;
}

TransformerConfig TransformerConfig::from_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw core::UserError(fmt::format("{}: expected a JSON object", source));
  TransformerConfig c;
  visit_config_fields(
      c, [&](const char* name, auto& field, const char*) { read_field(j, name, field, source); });
  c.validate(source);
  return c;
}

void TransformerConfig::validate(const std::string& source) const {
  auto fail = [&](const std::string& field, const std::string& expectation, const json& given) {
    throw core::UserError(
        fmt::format("{}: {} {}, got {}", source, field, expectation, given.dump()));
  };
  if (model_type != "seq2seq" && model_type != "causal_lm" && model_type != "encoder")
    fail("model_type", "must be seq2seq, causal_lm or encoder", model_type);
  if (vocab_size < 4) fail("vocab_size", "must be >= 4", vocab_size);
  if (d_model < 1) fail("d_model", "must be >= 1", d_model);
  if (d_model % 2) fail("d_model", "must be even (sinusoidal and rotary positions)", d_model);
  if (encoder_layers < 0) fail("encoder_layers", "must be >= 0", encoder_layers);
  if (is_causal_lm() && encoder_layers != 0)
    fail("encoder_layers", "must be 0 for a causal_lm", encoder_layers);
  if (is_encoder()) {
    if (decoder_layers != 0) fail("decoder_layers", "must be 0 for an encoder", decoder_layers);
    if (encoder_layers < 1) fail("encoder_layers", "must be >= 1 for an encoder", encoder_layers);
    if (type_vocab_size < 1) fail("type_vocab_size", "must be >= 1", type_vocab_size);
    if (encoder_head != "mlm" && encoder_head != "classification" && encoder_head != "span")
      fail("encoder_head", "must be mlm, classification or span", encoder_head);
    if (num_labels < 1) fail("num_labels", "must be >= 1", num_labels);
    if (separate_layers < 0 || separate_layers > encoder_layers)
      fail("separate_layers", fmt::format("must be in [0, encoder_layers {}]", encoder_layers),
           separate_layers);
  } else if (separate_layers != 0) {
    fail("separate_layers", "applies to encoders only (must be 0)", separate_layers);
  } else if (decoder_layers < 1) {
    fail("decoder_layers", "must be >= 1", decoder_layers);
  }
  if (encoder_layers > 0 && (encoder_attention_heads < 1 || d_model % encoder_attention_heads))
    fail("encoder_attention_heads", fmt::format("must divide d_model {}", d_model),
         encoder_attention_heads);
  if (decoder_layers > 0 && (decoder_attention_heads < 1 || d_model % decoder_attention_heads))
    fail("decoder_attention_heads", fmt::format("must divide d_model {}", d_model),
         decoder_attention_heads);
  if (num_key_value_heads < 0 || (num_key_value_heads > 0 && decoder_layers > 0 &&
                                  decoder_attention_heads % num_key_value_heads))
    fail("num_key_value_heads",
         fmt::format("must divide decoder_attention_heads {} (0: all)", decoder_attention_heads),
         num_key_value_heads);
  if (encoder_ffn_dim < 1) fail("encoder_ffn_dim", "must be >= 1", encoder_ffn_dim);
  if (decoder_ffn_dim < 1) fail("decoder_ffn_dim", "must be >= 1", decoder_ffn_dim);
  for (auto [name, p] : {std::pair{"dropout", dropout},
                         {"attention_dropout", attention_dropout},
                         {"activation_dropout", activation_dropout}})
    if (p < 0 || p >= 1) fail(name, "must be in [0, 1)", p);
  if (activation_function != "relu" && activation_function != "gelu" &&
      activation_function != "silu")
    fail("activation_function", "must be relu, gelu or silu", activation_function);
  if (position_embedding != "sinusoidal" && position_embedding != "learned" &&
      position_embedding != "rotary")
    fail("position_embedding", "must be sinusoidal, learned or rotary", position_embedding);
  if (position_embedding == "rotary" &&
      ((decoder_layers > 0 && (d_model / decoder_attention_heads) % 2) ||
       (encoder_layers > 0 && (d_model / encoder_attention_heads) % 2)))
    fail("position_embedding", "rotary needs an even head dimension", position_embedding);
  if (rope_theta <= 0) fail("rope_theta", "must be > 0", rope_theta);
  if (norm_type != "layer_norm" && norm_type != "rms_norm")
    fail("norm_type", "must be layer_norm or rms_norm", norm_type);
  if (norm_eps <= 0) fail("norm_eps", "must be > 0", norm_eps);
  if (max_position_embeddings < 2)
    fail("max_position_embeddings", "must be >= 2", max_position_embeddings);
  for (auto [name, id] : {std::pair{"pad_token_id", pad_token_id},
                          {"unk_token_id", unk_token_id},
                          {"bos_token_id", bos_token_id},
                          {"eos_token_id", eos_token_id}})
    if (id < 0 || id >= vocab_size) fail(name, fmt::format("must be in [0, {})", vocab_size), id);
  // Every block spec sits at a sublayer of this architecture and names a kind that fits there;
  // its options are checked when the block is built.
  const auto paths = sublayer_paths(*this);
  for (const auto& [path, spec] : blocks) {
    if (std::find(paths.begin(), paths.end(), path) == paths.end())
      fail("blocks",
           fmt::format("must be keyed by sublayer paths of this model ({}, ...)",
                       paths.empty() ? "" : paths.front()),
           path);
    const auto role = nn::block_role(spec.kind, fmt::format("{}: blocks.{}", source, path));
    if (role != sublayer_role(path))
      fail(fmt::format("blocks.{}.kind", path),
           role == nn::BlockRole::kAttention ? "must be a feed-forward kind here"
                                             : "must be an attention kind here",
           spec.kind);
  }
}

TransformerConfig TransformerConfig::load(const std::string& path) {
  json j;
  try {
    j = json::parse(core::read_file(path));
  } catch (const json::exception& e) {
    throw core::UserError(fmt::format("{}: malformed JSON: {}", path, e.what()));
  }
  return from_json(j, path);
}

void TransformerConfig::save(const std::string& path) const {
  core::write_text_atomically(path, to_json().dump(2) + "\n");
}

}  // namespace slimformer::models
