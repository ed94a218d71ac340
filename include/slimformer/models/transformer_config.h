// TransformerConfig: the architecture of a model, read from and written to config.json with
// Hugging Face-like keys (d_model, encoder_layers, encoder_attention_heads, ...). One config
// serves every family: model_type seq2seq (encoder-decoder), causal_lm (decoder only; the
// decoder_* fields describe it and encoder_layers is 0) or encoder (BERT-style; the encoder_*
// fields describe it, decoder_layers is 0, and encoder_head names its task head).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace slimformer::models {

struct TransformerConfig {
  std::string model_type = "seq2seq";  // seq2seq | causal_lm | encoder
  int64_t vocab_size = 8000;
  int64_t d_model = 512;
  int64_t encoder_layers = 6;
  int64_t decoder_layers = 6;
  int64_t encoder_attention_heads = 8;
  int64_t decoder_attention_heads = 8;
  int64_t encoder_ffn_dim = 2048;
  int64_t decoder_ffn_dim = 2048;
  double dropout = 0.1;
  double attention_dropout = 0.0;
  double activation_dropout = 0.0;
  std::string activation_function = "relu";
  bool normalize_before = false;                  // pre-norm; post-norm is the paper's default
  std::string position_embedding = "sinusoidal";  // sinusoidal | learned | rotary
  double rope_theta = 10000.0;                    // base of the rotary angles
  int64_t max_position_embeddings = 512;
  std::string norm_type = "layer_norm";  // layer_norm | rms_norm
  double norm_eps = 1e-5;
  bool ffn_gated = false;            // GLU feed-forward (SwiGLU with silu), as in Llama
  int64_t num_key_value_heads = 0;   // self-attention key/value heads (grouped-query); 0: all
  bool use_bias = true;              // biases in attention and feed-forward projections
  int64_t type_vocab_size = 2;       // encoder: segment (token type) embeddings
  std::string encoder_head = "mlm";  // encoder: mlm | classification | span
  int64_t num_labels = 2;            // encoder classification: classes (1: regression)
  bool share_embeddings = true;      // encoder and decoder share token embeddings
  bool tie_word_embeddings = true;   // output projection = decoder embedding
  bool scale_embedding = true;       // multiply embeddings by sqrt(d_model)
  int64_t pad_token_id = 0;
  int64_t unk_token_id = 1;
  int64_t bos_token_id = 2;
  int64_t eos_token_id = 3;
  int64_t init_seed = 1;
  std::vector<std::string> removed_sublayers;  // paths removed by module pruning

  nlohmann::json to_json() const;
  // Reads and validates; errors name `source` (a file) and the field.
  static TransformerConfig from_json(const nlohmann::json& j, const std::string& source);
  static TransformerConfig load(const std::string& path);
  bool is_causal_lm() const { return model_type == "causal_lm"; }
  bool is_encoder() const { return model_type == "encoder"; }
  void save(const std::string& path) const;
  // Throws a UserError naming `source` and the first invalid field.
  void validate(const std::string& source) const;
};

}  // namespace slimformer::models
