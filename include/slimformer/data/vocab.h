// Subword vocabularies with sentencepiece: training a joint BPE or unigram model from text,
// encoding to ids and decoding back. Ids 0-3 are <pad>, <unk>, <s>, </s>.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace slimformer::data {

struct VocabTrainOptions {
  int64_t vocab_size = 8000;
  std::string model_type = "bpe";  // bpe | unigram
  double character_coverage = 1.0;
  int64_t max_sentences = 0;  // 0: all
};

class Vocab {
 public:
  static constexpr int64_t kPad = 0, kUnk = 1, kBos = 2, kEos = 3;

  // Loads a sentencepiece .model file.
  static Vocab load(const std::string& path);
  // Trains on the lines of `text_files` and writes `<model_path>` (a .model file).
  static Vocab train(const std::vector<std::string>& text_files, const std::string& model_path,
                     const VocabTrainOptions& options);

  std::vector<int64_t> encode(const std::string& text) const;
  std::string decode(const std::vector<int64_t>& ids) const;  // stops at </s>, skips <pad>/<s>
  int64_t size() const;
  const std::string& path() const { return path_; }

 private:
  std::shared_ptr<void> processor_;  // a sentencepiece processor behind the shim
  std::string path_;
  int64_t size_ = 0;
};

}  // namespace slimformer::data
