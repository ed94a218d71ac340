// llama2.c's tokenizer.bin: a sentencepiece BPE vocabulary exported as (score, piece) pairs.
// File layout (little-endian): int32 max_token_length, then per token a float32 score, an int32
// byte length and the bytes. Ids 0, 1, 2 are <unk>, <s>, </s>; 3..258 are the byte-fallback
// pieces <0x00>..<0xFF>; pieces use ' ' where sentencepiece writes U+2581.
// Encoding follows llama2.c's run.c: a leading space, one piece per UTF-8 character (bytes
// when the character has no piece), then repeated merging of the adjacent pair whose joined
// piece has the highest score.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "slimformer/data/tokenizer.h"

namespace slimformer::data {

class Llama2cTokenizer : public Tokenizer {
 public:
  static constexpr int64_t kUnk = 0, kBos = 1, kEos = 2, kFirstByte = 3;
  static constexpr char kFileName[] = "tokenizer.bin";

  // Reads a tokenizer.bin; a UserError naming the file if it is truncated or malformed.
  static Llama2cTokenizer load(const std::string& path);

  std::vector<int64_t> encode(const std::string& text) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t size() const override { return static_cast<int64_t>(pieces_.size()); }
  int64_t bos_id() const override { return kBos; }
  int64_t eos_id() const override { return kEos; }
  std::vector<int64_t> line_end_ids() const override;
  const std::string& path() const override { return path_; }
  std::string checkpoint_file_name() const override { return kFileName; }

  const std::string& piece(int64_t id) const { return pieces_.at(id); }

 private:
  int64_t lookup(const std::string& piece) const;  // -1 if absent
  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int64_t> ids_;
  std::string path_;
};

}  // namespace slimformer::data
