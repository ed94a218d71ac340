// The Hugging Face BERT layout: config.json (model_type "bert", hidden_size, num_hidden_layers,
// ...), model.safetensors with Hugging Face parameter names (bert.encoder.layer.0.attention.self.
// query.weight, ...) and vocab.txt. A directory in this layout loads as an encoder checkpoint,
// and an encoder can be written in it.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "slimformer/core/safetensors.h"
#include "slimformer/data/tokenizer.h"
#include "slimformer/models/encoder.h"

namespace slimformer::train {

// Whether `dir`'s config.json says model_type "bert".
bool is_hf_bert(const std::filesystem::path& dir);

// Our parameter name -> Hugging Face's, and back. The reverse also accepts the older
// LayerNorm.gamma/beta names and names without the "bert." prefix (a bare BertModel). Returns an
// empty string for a name outside the mapping.
std::string to_hf_bert_name(const std::string& name);
std::string from_hf_bert_name(const std::string& hf_name);

models::TransformerConfig config_from_hf_bert(const nlohmann::json& hf, const std::string& source);
nlohmann::json hf_bert_config(const models::TransformerConfig& config);

struct HfBertFiles {
  models::TransformerConfig config;  // encoder_head from the heads present (mlm when none)
  core::TensorMap tensors;           // our names; a missing head is absent
  std::shared_ptr<data::Tokenizer> tokenizer;
};

// Reads a Hugging Face BERT directory; a UserError names the file and the first unknown tensor.
HfBertFiles read_hf_bert(const std::filesystem::path& dir);

// Writes config.json, model.safetensors (Hugging Face names, float32) and the tokenizer into
// `dir`, which must exist.
void write_hf_bert(const std::filesystem::path& dir, models::EncoderModelImpl& model,
                   const data::Tokenizer& tokenizer);

}  // namespace slimformer::train
