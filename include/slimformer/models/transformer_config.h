// TransformerConfig: the architecture of a model, read from and written to config.json with
// Hugging Face-like keys (d_model, encoder_layers, encoder_attention_heads, ...). One config
// serves every family: model_type seq2seq (encoder-decoder), causal_lm (decoder only; the
// decoder_* fields describe it and encoder_layers is 0) or encoder (BERT-style; the encoder_*
// fields describe it, decoder_layers is 0, and encoder_head names its task head).
//
// The stack fields give every sublayer its family default block; `blocks` holds, per sublayer
// path, the block spec of each sublayer that differs from it (another width, other heads,
// another kind), and `removed_sublayers` the sublayers that are gone. Every field, with what it
// means, is listed once, in visit_config_fields.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slimformer/nn/block.h"

namespace slimformer::models {

struct TransformerConfig {
  std::string model_type = "seq2seq";
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
  bool normalize_before = false;
  std::string position_embedding = "sinusoidal";
  double rope_theta = 10000.0;
  int64_t max_position_embeddings = 512;
  std::string norm_type = "layer_norm";
  double norm_eps = 1e-5;
  bool ffn_gated = false;
  int64_t num_key_value_heads = 0;
  bool use_bias = true;
  int64_t type_vocab_size = 2;
  std::string encoder_head = "mlm";
  int64_t num_labels = 2;
  int64_t separate_layers = 0;
  bool share_embeddings = true;
  bool tie_word_embeddings = true;
  bool scale_embedding = true;
  int64_t pad_token_id = 0;
  int64_t unk_token_id = 1;
  int64_t bos_token_id = 2;
  int64_t eos_token_id = 3;
  int64_t init_seed = 1;
  std::map<std::string, nn::BlockSpec> blocks;
  std::vector<std::string> removed_sublayers;

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

// Calls visit(name, field, help) for every field of the config, in config.json's order.
template <typename Config, typename Visit>
void visit_config_fields(Config& c, Visit&& visit) {
  visit("model_type", c.model_type, "seq2seq, causal_lm or encoder");
  visit("vocab_size", c.vocab_size, "tokens in the vocabulary");
  visit("d_model", c.d_model, "width of every layer");
  visit("encoder_layers", c.encoder_layers, "encoder layers (0 for a causal_lm)");
  visit("decoder_layers", c.decoder_layers, "decoder layers (0 for an encoder)");
  visit("encoder_attention_heads", c.encoder_attention_heads, "attention heads per encoder layer");
  visit("decoder_attention_heads", c.decoder_attention_heads, "attention heads per decoder layer");
  visit("encoder_ffn_dim", c.encoder_ffn_dim, "hidden width of the encoder feed-forward blocks");
  visit("decoder_ffn_dim", c.decoder_ffn_dim, "hidden width of the decoder feed-forward blocks");
  visit("dropout", c.dropout, "dropout on embeddings and sublayer outputs");
  visit("attention_dropout", c.attention_dropout, "dropout on attention weights");
  visit("activation_dropout", c.activation_dropout, "dropout after the feed-forward activation");
  visit("activation_function", c.activation_function, "relu, gelu or silu");
  visit("normalize_before", c.normalize_before, "pre-norm sublayers (post-norm: the paper's)");
  visit("position_embedding", c.position_embedding, "sinusoidal, learned or rotary");
  visit("rope_theta", c.rope_theta, "base of the rotary angles");
  visit("max_position_embeddings", c.max_position_embeddings, "longest sequence");
  visit("norm_type", c.norm_type, "layer_norm or rms_norm");
  visit("norm_eps", c.norm_eps, "epsilon of the norms");
  visit("ffn_gated", c.ffn_gated, "gated (GLU) feed-forward blocks; SwiGLU with silu");
  visit("num_key_value_heads", c.num_key_value_heads,
        "key/value heads of self-attention (grouped-query); 0: all");
  visit("use_bias", c.use_bias, "biases in attention and feed-forward projections");
  visit("type_vocab_size", c.type_vocab_size, "encoder: segment (token type) embeddings");
  visit("encoder_head", c.encoder_head, "encoder: mlm, classification or span");
  visit("num_labels", c.num_labels, "encoder classification: classes (1: regression)");
  visit("separate_layers", c.separate_layers,
        "encoder: lower layers run on each segment alone (DeFormer); 0: none");
  visit("share_embeddings", c.share_embeddings, "encoder and decoder share token embeddings");
  visit("tie_word_embeddings", c.tie_word_embeddings, "output projection = decoder embedding");
  visit("scale_embedding", c.scale_embedding, "multiply embeddings by sqrt(d_model)");
  visit("pad_token_id", c.pad_token_id, "padding token");
  visit("unk_token_id", c.unk_token_id, "unknown token");
  visit("bos_token_id", c.bos_token_id, "beginning-of-sequence token");
  visit("eos_token_id", c.eos_token_id, "end-of-sequence token");
  visit("init_seed", c.init_seed, "seed of the initial parameters");
  visit("blocks", c.blocks, "block spec per sublayer path, where it differs from the default");
  visit("removed_sublayers", c.removed_sublayers, "sublayer paths removed by module pruning");
}

}  // namespace slimformer::models
