// Shared helpers for the unit tests: paths to the bundled data and a small vocabulary trained
// once per test run on bundled Multi30k text.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "slimformer/core/error.h"
#include "slimformer/data/vocab.h"
#include "slimformer/models/seq2seq.h"

namespace slimformer::testing {

inline std::filesystem::path source_dir() { return SLIMFORMER_SOURCE_DIR; }
inline std::string data_file(const std::string& relative) {
  return (source_dir() / "data" / relative).string();
}

// A fresh temporary directory, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A 400-piece BPE vocabulary trained on the first lines of Multi30k (built on first use).
const data::Vocab& small_vocab();

// A tiny translation model configuration (2+2 layers, width 32) for fast tests.
models::TransformerConfig tiny_config(int64_t vocab_size = 400);
// A tiny GPT-style causal LM (2 pre-norm layers, width 32, learned positions, vocabulary 50).
models::TransformerConfig tiny_gpt_config();
// The same as a Llama-style model: rotary positions, RMSNorm, gated SiLU, 2 key/value heads.
models::TransformerConfig tiny_llama_config();

// Writes `text` to a file and returns its path.
std::string write_file(const std::filesystem::path& path, const std::string& text);

// Runs `fn`, expecting a UserError whose message equals `expected`.
template <typename Fn>
void expect_user_error(Fn&& fn, const std::string& expected) {
  try {
    fn();
    ADD_FAILURE() << "expected UserError: " << expected;
  } catch (const core::UserError& e) {
    EXPECT_EQ(std::string(e.what()), expected);
  }
}

}  // namespace slimformer::testing
