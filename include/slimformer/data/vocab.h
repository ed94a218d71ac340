// Subword vocabularies with sentencepiece: training a joint BPE or unigram model from text,
// encoding to ids and decoding back. Ids 0-3 are <pad>, <unk>, <s>, </s>.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "slimformer/data/tokenizer.h"

namespace slimformer::data {

struct VocabTrainOptions {
  int64_t vocab_size = 8000;
  std::string model_type = "bpe";  // bpe | unigram
  double character_coverage = 1.0;
  int64_t max_sentences = 0;  // 0: all
  bool with_mask = false;     // add the <mask> piece masked-LM pre-training needs (id 4)
};

class Vocab : public Tokenizer {
 public:
  static constexpr int64_t kPad = 0, kUnk = 1, kBos = 2, kEos = 3;
  static constexpr char kFileName[] = "tokenizer.model";
  static constexpr char kMaskPiece[] = "<mask>";

  // Loads a sentencepiece .model file.
  static Vocab load(const std::string& path);
  // Trains on the lines of `text_files` and writes `<model_path>` (a .model file).
  static Vocab train(const std::vector<std::string>& text_files, const std::string& model_path,
                     const VocabTrainOptions& options);
  // The same from lines already in memory (a corpus that is not plain text on disk).
  static Vocab train_on_lines(const std::vector<std::string>& lines, const std::string& model_path,
                              const VocabTrainOptions& options);

  std::vector<int64_t> encode(const std::string& text) const override;
  // Stops at </s>, skips <pad> and <s>.
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t size() const override;
  int64_t bos_id() const override { return kBos; }
  int64_t eos_id() const override { return kEos; }
  std::vector<int64_t> line_end_ids() const override { return {kEos}; }
  const std::string& path() const override { return path_; }
  std::string checkpoint_file_name() const override { return kFileName; }
  int64_t pad_id() const override { return kPad; }
  int64_t mask_id() const override { return mask_; }

 private:
  std::shared_ptr<void> processor_;  // a sentencepiece processor behind the shim
  std::string path_;
  int64_t size_ = 0;
  int64_t mask_ = -1;
};

}  // namespace slimformer::data
