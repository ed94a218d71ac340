#include "slimformer/data/llama2c_tokenizer.h"

#include <fmt/format.h>

#include <cstring>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"

namespace slimformer::data {

namespace {

// Sequential little-endian reads that name the file and the offset when the data runs out.
class ByteReader {
 public:
  ByteReader(const std::string& bytes, const std::string& path) : bytes_(bytes), path_(path) {}
  bool at_end() const { return offset_ == bytes_.size(); }
  template <typename T>
  T read(const char* what) {
    T value;
    std::memcpy(&value, take(sizeof(T), what), sizeof(T));
    return value;
  }
  std::string read_string(size_t length, const char* what) {
    return std::string(take(length, what), length);
  }

 private:
  const char* take(size_t n, const char* what) {
    if (bytes_.size() - offset_ < n)
      throw core::UserError(
          fmt::format("{}: truncated: {} needs {} bytes at offset {}, file has {}", path_, what, n,
                      offset_, bytes_.size()));
    const char* p = bytes_.data() + offset_;
    offset_ += n;
    return p;
  }
  const std::string& bytes_;
  const std::string& path_;
  size_t offset_ = 0;
};

// Length of the UTF-8 character that starts with byte `lead` (1 for a stray continuation byte).
size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

}  // namespace

Llama2cTokenizer Llama2cTokenizer::load(const std::string& path) {
  const std::string bytes = core::read_file(path);
  ByteReader reader(bytes, path);
  Llama2cTokenizer tokenizer;
  tokenizer.path_ = path;
  const auto max_length = reader.read<int32_t>("max_token_length");
  if (max_length < 1 || max_length > 1024)
    throw core::UserError(
        fmt::format("{}: max_token_length {} is not in [1, 1024]: not a llama2.c tokenizer.bin",
                    path, max_length));
  while (!reader.at_end()) {
    const auto score = reader.read<float>("a token score");
    const auto length = reader.read<int32_t>("a token length");
    if (length < 0 || length > max_length)
      throw core::UserError(fmt::format("{}: token {} has length {}, outside [0, {}]", path,
                                        tokenizer.pieces_.size(), length, max_length));
    tokenizer.scores_.push_back(score);
    tokenizer.pieces_.push_back(reader.read_string(length, "a token's bytes"));
  }
  if (tokenizer.size() < kFirstByte + 256)
    throw core::UserError(fmt::format("{}: {} tokens; a llama2.c tokenizer has at least {}", path,
                                      tokenizer.size(), kFirstByte + 256));
  for (int64_t id = 0; id < tokenizer.size(); ++id)
    tokenizer.ids_.emplace(tokenizer.pieces_[id], id);  // the first id wins on duplicates
  return tokenizer;
}

int64_t Llama2cTokenizer::lookup(const std::string& piece) const {
  auto it = ids_.find(piece);
  return it == ids_.end() ? -1 : it->second;
}

std::vector<int64_t> Llama2cTokenizer::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  if (text.empty()) return ids;
  // sentencepiece's dummy prefix: the text starts a word.
  if (int64_t space = lookup(" "); space >= 0) ids.push_back(space);
  for (size_t i = 0; i < text.size();) {
    const size_t n = std::min(utf8_length(static_cast<unsigned char>(text[i])), text.size() - i);
    if (int64_t id = lookup(text.substr(i, n)); id >= 0) {
      ids.push_back(id);
    } else {
      for (size_t b = i; b < i + n; ++b)
        ids.push_back(kFirstByte + static_cast<unsigned char>(text[b]));
    }
    i += n;
  }
  // Greedy BPE: merge the best-scoring adjacent pair until no pair forms a piece.
  while (true) {
    float best_score = -1e10f;
    int64_t best_id = -1;
    size_t best_at = 0;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      const int64_t id = lookup(pieces_[ids[i]] + pieces_[ids[i + 1]]);
      if (id >= 0 && scores_[id] > best_score) best_score = scores_[id], best_id = id, best_at = i;
    }
    if (best_id < 0) break;
    ids[best_at] = best_id;
    ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
  }
  return ids;
}

std::string Llama2cTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string text;
  bool after_bos = true;  // the sequence starts as if after <s>
  for (int64_t id : ids) {
    if (id < 0 || id >= size())
      throw core::UserError(fmt::format("token id {} is outside the vocabulary of {}", id, size()));
    if (id == kBos || id == kEos || id == kUnk) {
      after_bos = id == kBos;
      continue;
    }
    std::string piece = pieces_[id];
    if (id >= kFirstByte && id < kFirstByte + 256) {
      piece = std::string(1, static_cast<char>(id - kFirstByte));
    } else if (after_bos && !piece.empty() && piece[0] == ' ') {
      piece.erase(0, 1);  // the dummy prefix added by encode
    }
    text += piece;
    after_bos = false;
  }
  return text;
}

std::vector<int64_t> Llama2cTokenizer::line_end_ids() const {
  if (int64_t id = lookup("\n"); id >= 0) return {id};
  return {kFirstByte + '\n'};
}

}  // namespace slimformer::data
