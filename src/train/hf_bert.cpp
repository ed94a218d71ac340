#include "slimformer/train/hf_bert.h"

#include <fmt/format.h>

#include <regex>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/data/wordpiece.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Prefix pairs (ours, Hugging Face's); the rest of a name is kept.
const std::vector<std::pair<std::string, std::string>> kGlobalNames = {
    {"embed_tokens.", "bert.embeddings.word_embeddings."},
    {"embed_positions.", "bert.embeddings.position_embeddings."},
    {"embed_segments.", "bert.embeddings.token_type_embeddings."},
    {"embed_norm.", "bert.embeddings.LayerNorm."},
    {"pooler.", "bert.pooler.dense."},
    {"mlm_transform.", "cls.predictions.transform.dense."},
    {"mlm_norm.", "cls.predictions.transform.LayerNorm."},
    {"mlm_bias", "cls.predictions.bias"},
    {"classifier.", "classifier."},
    {"span_head.", "qa_outputs."}};

// Within encoder.layers.i. / bert.encoder.layer.i.
const std::vector<std::pair<std::string, std::string>> kLayerNames = {
    {"self_attn.block.q_proj.", "attention.self.query."},
    {"self_attn.block.k_proj.", "attention.self.key."},
    {"self_attn.block.v_proj.", "attention.self.value."},
    {"self_attn.block.out_proj.", "attention.output.dense."},
    {"self_attn.norm.", "attention.output.LayerNorm."},
    {"ffn.block.fc1.", "intermediate.dense."},
    {"ffn.block.fc2.", "output.dense."},
    {"ffn.norm.", "output.LayerNorm."}};

// Tensors Hugging Face checkpoints carry that the model does not need.
bool is_ignored_hf_name(const std::string& name) {
  return name.ends_with("embeddings.position_ids") || name == "cls.predictions.decoder.weight" ||
         name == "cls.predictions.decoder.bias" || name.starts_with("cls.seq_relationship.");
}

std::string map_prefix(const std::string& name,
                       const std::vector<std::pair<std::string, std::string>>& table,
                       bool forward) {
  for (const auto& [ours, theirs] : table) {
    const std::string& from = forward ? ours : theirs;
    const std::string& to = forward ? theirs : ours;
    if (name.starts_with(from)) return to + name.substr(from.size());
  }
  return "";
}

// BertModel is post-norm with learned absolute positions, LayerNorm, biases and an ungated FFN;
// refuse anything else before a file is written.
void require_bert_layout(const models::TransformerConfig& c) {
  auto refuse = [](const std::string& what) {
    throw core::UserError("the Hugging Face BERT layout cannot hold " + what);
  };
  if (!c.removed_sublayers.empty())
    refuse(fmt::format("a model with removed sublayers ({} removed)", c.removed_sublayers.size()));
  if (c.normalize_before) refuse("a pre-norm model (normalize_before: true); BERT is post-norm");
  if (c.position_embedding != "learned")
    refuse(
        fmt::format("position_embedding {}; BERT learns absolute positions", c.position_embedding));
  if (c.norm_type != "layer_norm") refuse(fmt::format("norm_type {}", c.norm_type));
  if (c.ffn_gated || !c.use_bias) refuse("a gated or bias-free feed-forward block");
  if (!c.blocks.empty())
    refuse(fmt::format("blocks other than the default ({} at {})", c.blocks.begin()->second.kind,
                       c.blocks.begin()->first));
}

}  // namespace

std::string to_hf_bert_name(const std::string& name) {
  static const std::regex layer(R"(encoder\.layers\.(\d+)\.(.*))");
  std::smatch m;
  if (std::regex_match(name, m, layer)) {
    std::string rest = map_prefix(m[2], kLayerNames, true);
    return rest.empty() ? "" : fmt::format("bert.encoder.layer.{}.{}", m[1].str(), rest);
  }
  return map_prefix(name, kGlobalNames, true);
}

std::string from_hf_bert_name(const std::string& hf_name) {
  std::string name = hf_name;
  // TensorFlow-era names, and a bare BertModel without the "bert." prefix.
  if (name.ends_with("LayerNorm.gamma")) name = name.substr(0, name.size() - 5) + "weight";
  if (name.ends_with("LayerNorm.beta")) name = name.substr(0, name.size() - 4) + "bias";
  if (name.starts_with("embeddings.") || name.starts_with("encoder.") ||
      name.starts_with("pooler."))
    name = "bert." + name;
  static const std::regex layer(R"(bert\.encoder\.layer\.(\d+)\.(.*))");
  std::smatch m;
  if (std::regex_match(name, m, layer)) {
    std::string rest = map_prefix(m[2], kLayerNames, false);
    return rest.empty() ? "" : fmt::format("encoder.layers.{}.{}", m[1].str(), rest);
  }
  return map_prefix(name, kGlobalNames, false);
}

bool is_hf_bert(const fs::path& dir) {
  if (!fs::exists(dir / kConfigFile)) return false;
  try {
    auto j = json::parse(core::read_file(dir / kConfigFile));
    return j.is_object() && j.value("model_type", "") == "bert";
  } catch (const json::exception&) {
    return false;  // the regular loader reports the malformed file
  }
}

models::TransformerConfig config_from_hf_bert(const json& hf, const std::string& source) {
  auto get = [&](const char* key, auto fallback) {
    using T = decltype(fallback);
    if (!hf.contains(key)) return fallback;
    try {
      return hf.at(key).get<T>();
    } catch (const json::exception&) {
      throw core::UserError(
          fmt::format("{}: field {} has the wrong type: {}", source, key, hf.at(key).dump()));
    }
  };
  models::TransformerConfig c;
  c.model_type = "encoder";
  c.vocab_size = get("vocab_size", int64_t{30522});
  c.d_model = get("hidden_size", int64_t{768});
  c.encoder_layers = get("num_hidden_layers", int64_t{12});
  c.decoder_layers = 0;
  c.encoder_attention_heads = c.decoder_attention_heads = get("num_attention_heads", int64_t{12});
  c.encoder_ffn_dim = c.decoder_ffn_dim = get("intermediate_size", int64_t{3072});
  c.activation_function = get("hidden_act", std::string("gelu"));
  c.dropout = get("hidden_dropout_prob", 0.1);
  c.attention_dropout = get("attention_probs_dropout_prob", 0.1);
  c.max_position_embeddings = get("max_position_embeddings", int64_t{512});
  c.type_vocab_size = get("type_vocab_size", int64_t{2});
  c.norm_eps = get("layer_norm_eps", 1e-12);
  c.pad_token_id = get("pad_token_id", int64_t{0});
  c.normalize_before = false;
  c.position_embedding = "learned";
  c.scale_embedding = false;
  c.tie_word_embeddings = true;
  c.unk_token_id = c.bos_token_id = c.eos_token_id = c.pad_token_id;  // set from the vocabulary
  if (c.activation_function != "gelu")
    throw core::UserError(
        fmt::format("{}: hidden_act {} is not supported (gelu is)", source, c.activation_function));
  c.validate(source);
  return c;
}

json hf_bert_config(const models::TransformerConfig& c) {
  const std::string architecture = c.encoder_head == "mlm" ? "BertForMaskedLM"
                                   : c.encoder_head == "classification"
                                       ? "BertForSequenceClassification"
                                       : "BertForQuestionAnswering";
  json j = {{"model_type", "bert"},
            {"architectures", {architecture}},
            {"vocab_size", c.vocab_size},
            {"hidden_size", c.d_model},
            {"num_hidden_layers", c.encoder_layers},
            {"num_attention_heads", c.encoder_attention_heads},
            {"intermediate_size", c.encoder_ffn_dim},
            {"hidden_act", c.activation_function},
            {"hidden_dropout_prob", c.dropout},
            {"attention_probs_dropout_prob", c.attention_dropout},
            {"max_position_embeddings", c.max_position_embeddings},
            {"type_vocab_size", c.type_vocab_size},
            {"layer_norm_eps", c.norm_eps},
            {"pad_token_id", c.pad_token_id},
            {"initializer_range", 0.02}};
  if (c.encoder_head == "classification") {
    j["num_labels"] = c.num_labels;
    if (c.num_labels == 1) j["problem_type"] = "regression";
  }
  return j;
}

HfBertFiles read_hf_bert(const fs::path& dir) {
  const std::string config_path = (dir / kConfigFile).string();
  json hf;
  try {
    hf = json::parse(core::read_file(dir / kConfigFile));
  } catch (const json::exception& e) {
    throw core::UserError(fmt::format("{}: malformed JSON: {}", config_path, e.what()));
  }
  HfBertFiles files;
  files.config = config_from_hf_bert(hf, config_path);
  const fs::path weights = dir / kModelFile;
  if (!fs::exists(weights))
    throw core::UserError(fmt::format("{}: checkpoint has no {}", dir.string(), kModelFile));
  for (auto& [hf_name, tensor] : core::load_safetensors(weights)) {
    if (is_ignored_hf_name(hf_name)) continue;
    const std::string name = from_hf_bert_name(hf_name);
    if (name.empty())
      throw core::UserError(
          fmt::format("{}: tensor {} is not part of a BERT model", weights.string(), hf_name));
    files.tensors[name] = tensor.to(torch::kFloat32);
  }
  // The head is whichever the file has.
  auto& c = files.config;
  if (files.tensors.count("span_head.weight")) {
    c.encoder_head = "span";
  } else if (auto it = files.tensors.find("classifier.weight"); it != files.tensors.end()) {
    c.encoder_head = "classification";
    c.num_labels = it->second.size(0);
  } else {
    c.encoder_head = "mlm";
  }
  files.tokenizer = data::load_checkpoint_tokenizer(dir);
  if (auto* wordpiece = dynamic_cast<const data::WordPieceTokenizer*>(files.tokenizer.get())) {
    c.unk_token_id = wordpiece->unk_id();
    c.bos_token_id = wordpiece->bos_id();
    c.eos_token_id = wordpiece->eos_id();
  }
  c.validate(config_path);
  return files;
}

void write_hf_bert(const fs::path& dir, models::EncoderModelImpl& model,
                   const data::Tokenizer& tokenizer) {
  require_bert_layout(model.config());
  core::TensorMap named;
  for (const auto& [name, tensor] : model.state()) {
    const std::string hf_name = to_hf_bert_name(name);
    if (hf_name.empty())
      throw core::UserError(fmt::format("parameter {} has no Hugging Face BERT name", name));
    named[hf_name] = tensor;
  }
  core::write_text_atomically(dir / kConfigFile, hf_bert_config(model.config()).dump(2) + "\n");
  core::save_safetensors(dir / kModelFile, cast_tensors(named, torch::kFloat32));
  tokenizer.save_to(dir);
}

}  // namespace slimformer::train
