#include "test_helpers.h"

#include <unistd.h>

#include <fstream>

#include "slimformer/data/text_file.h"

namespace slimformer::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "slimformer-test-XXXXXX").string();
  path_ = ::mkdtemp(pattern.data());
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return path.string();
}

const data::Vocab& small_vocab() {
  static TempDir dir;
  static data::Vocab vocab = [] {
    auto en = data::read_lines(data_file("multi30k/train.en.gz"));
    auto de = data::read_lines(data_file("multi30k/train.de.gz"));
    std::string text;
    for (size_t i = 0; i < 3000; ++i) text += en[i] + "\n" + de[i] + "\n";
    write_file(dir / "text.txt", text);
    data::VocabTrainOptions options;
    options.vocab_size = 400;
    return data::Vocab::train({(dir / "text.txt").string()}, (dir / "small.model").string(),
                              options);
  }();
  return vocab;
}

models::TransformerConfig tiny_config(int64_t vocab_size) {
  models::TransformerConfig c;
  c.vocab_size = vocab_size;
  c.d_model = 32;
  c.encoder_layers = 2;
  c.decoder_layers = 2;
  c.encoder_attention_heads = 4;
  c.decoder_attention_heads = 4;
  c.encoder_ffn_dim = 64;
  c.decoder_ffn_dim = 64;
  c.dropout = 0.0;
  c.max_position_embeddings = 64;
  return c;
}


models::TransformerConfig tiny_gpt_config() {
  models::TransformerConfig c;
  c.model_type = "causal_lm";
  c.vocab_size = 50;
  c.d_model = 32;
  c.encoder_layers = 0;
  c.decoder_layers = 2;
  c.decoder_attention_heads = 4;
  c.decoder_ffn_dim = 64;
  c.activation_function = "gelu";
  c.normalize_before = true;
  c.position_embedding = "learned";
  c.max_position_embeddings = 64;
  c.dropout = 0.0;
  c.scale_embedding = false;
  return c;
}

models::TransformerConfig tiny_llama_config() {
  auto c = tiny_gpt_config();
  c.position_embedding = "rotary";
  c.norm_type = "rms_norm";
  c.activation_function = "silu";
  c.ffn_gated = true;
  c.num_key_value_heads = 2;
  c.use_bias = false;
  c.tie_word_embeddings = false;
  return c;
}

}  // namespace slimformer::testing
