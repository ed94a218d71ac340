#include "slimformer/models/transformer_config.h"

#include <fmt/format.h>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"

namespace slimformer::models {

using nlohmann::json;

json TransformerConfig::to_json() const {
  return json{{"model_type", model_type},
              {"vocab_size", vocab_size},
              {"d_model", d_model},
              {"encoder_layers", encoder_layers},
              {"decoder_layers", decoder_layers},
              {"encoder_attention_heads", encoder_attention_heads},
              {"decoder_attention_heads", decoder_attention_heads},
              {"encoder_ffn_dim", encoder_ffn_dim},
              {"decoder_ffn_dim", decoder_ffn_dim},
              {"dropout", dropout},
              {"attention_dropout", attention_dropout},
              {"activation_dropout", activation_dropout},
              {"activation_function", activation_function},
              {"normalize_before", normalize_before},
              {"position_embedding", position_embedding},
              {"rope_theta", rope_theta},
              {"max_position_embeddings", max_position_embeddings},
              {"norm_type", norm_type},
              {"norm_eps", norm_eps},
              {"ffn_gated", ffn_gated},
              {"num_key_value_heads", num_key_value_heads},
              {"use_bias", use_bias},
              {"type_vocab_size", type_vocab_size},
              {"encoder_head", encoder_head},
              {"num_labels", num_labels},
              {"share_embeddings", share_embeddings},
              {"tie_word_embeddings", tie_word_embeddings},
              {"scale_embedding", scale_embedding},
              {"pad_token_id", pad_token_id},
              {"unk_token_id", unk_token_id},
              {"bos_token_id", bos_token_id},
              {"eos_token_id", eos_token_id},
              {"init_seed", init_seed},
              {"removed_sublayers", removed_sublayers}};
}

namespace {

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

}  // namespace

TransformerConfig TransformerConfig::from_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw core::UserError(fmt::format("{}: expected a JSON object", source));
  TransformerConfig c;
  read_field(j, "model_type", c.model_type, source);
  read_field(j, "vocab_size", c.vocab_size, source);
  read_field(j, "d_model", c.d_model, source);
  read_field(j, "encoder_layers", c.encoder_layers, source);
  read_field(j, "decoder_layers", c.decoder_layers, source);
  read_field(j, "encoder_attention_heads", c.encoder_attention_heads, source);
  read_field(j, "decoder_attention_heads", c.decoder_attention_heads, source);
  read_field(j, "encoder_ffn_dim", c.encoder_ffn_dim, source);
  read_field(j, "decoder_ffn_dim", c.decoder_ffn_dim, source);
  read_field(j, "dropout", c.dropout, source);
  read_field(j, "attention_dropout", c.attention_dropout, source);
  read_field(j, "activation_dropout", c.activation_dropout, source);
  read_field(j, "activation_function", c.activation_function, source);
  read_field(j, "normalize_before", c.normalize_before, source);
  read_field(j, "position_embedding", c.position_embedding, source);
  read_field(j, "rope_theta", c.rope_theta, source);
  read_field(j, "max_position_embeddings", c.max_position_embeddings, source);
  read_field(j, "norm_type", c.norm_type, source);
  read_field(j, "norm_eps", c.norm_eps, source);
  read_field(j, "ffn_gated", c.ffn_gated, source);
  read_field(j, "num_key_value_heads", c.num_key_value_heads, source);
  read_field(j, "use_bias", c.use_bias, source);
  read_field(j, "type_vocab_size", c.type_vocab_size, source);
  read_field(j, "encoder_head", c.encoder_head, source);
  read_field(j, "num_labels", c.num_labels, source);
  read_field(j, "share_embeddings", c.share_embeddings, source);
  read_field(j, "tie_word_embeddings", c.tie_word_embeddings, source);
  read_field(j, "scale_embedding", c.scale_embedding, source);
  read_field(j, "pad_token_id", c.pad_token_id, source);
  read_field(j, "unk_token_id", c.unk_token_id, source);
  read_field(j, "bos_token_id", c.bos_token_id, source);
  read_field(j, "eos_token_id", c.eos_token_id, source);
  read_field(j, "init_seed", c.init_seed, source);
  read_field(j, "removed_sublayers", c.removed_sublayers, source);
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
}

TransformerConfig TransformerConfig::load(const std::string& path) {
  json j;
  try {
    j = json::parse(core::read_file(path));
  } catch (const json::parse_error& e) {
    throw core::UserError(fmt::format("{}: malformed JSON: {}", path, e.what()));
  }
  return from_json(j, path);
}

void TransformerConfig::save(const std::string& path) const {
  core::write_text_atomically(path, to_json().dump(2) + "\n");
}

}  // namespace slimformer::models
