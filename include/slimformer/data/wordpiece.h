// BERT's WordPiece tokenizer (Devlin et al. 2019) over a vocab.txt, one piece per line:
// basic tokenization (control characters removed, spaces around CJK characters and punctuation,
// optional lower-casing and accent stripping), then greedy longest-match-first WordPiece with
// "##" continuation pieces; a word with no segmentation, or longer than 100 characters, is [UNK].
// Accent stripping removes combining marks and decomposes the Latin-1 and Latin Extended-A
// letters (U+00C0-U+017F); other precomposed letters are kept as they are.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "slimformer/data/tokenizer.h"

namespace slimformer::data {

class WordPieceTokenizer : public Tokenizer {
 public:
  static constexpr char kFileName[] = "vocab.txt";
  static constexpr char kSettingsFile[] = "tokenizer_config.json";  // do_lower_case

  // Reads vocab.txt; a UserError naming the file if it is empty, has a duplicate piece, or lacks
  // one of [PAD], [UNK], [CLS], [SEP], [MASK].
  static WordPieceTokenizer load(const std::string& path, bool lower_case = true);

  std::vector<int64_t> encode(const std::string& text) const override;
  // Pieces joined with spaces, "##" pieces glued to the one before; special tokens dropped.
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t size() const override { return static_cast<int64_t>(pieces_.size()); }
  int64_t bos_id() const override { return cls_; }
  int64_t eos_id() const override { return sep_; }
  std::vector<int64_t> line_end_ids() const override { return {sep_}; }
  const std::string& path() const override { return path_; }
  std::string checkpoint_file_name() const override { return kFileName; }
  // vocab.txt and tokenizer_config.json with do_lower_case, as Hugging Face writes them.
  void save_to(const std::filesystem::path& dir) const override;

  int64_t pad_id() const override { return pad_; }
  int64_t mask_id() const override { return mask_; }
  int64_t unk_id() const { return unk_; }
  bool lower_case() const { return lower_case_; }
  // The words of BERT's basic tokenization, before WordPiece.
  std::vector<std::string> basic_tokenize(const std::string& text) const;
  const std::string& piece(int64_t id) const { return pieces_.at(id); }

 private:
  void word_pieces(const std::string& word, std::vector<int64_t>& out) const;
  std::vector<std::string> pieces_;
  std::unordered_map<std::string, int64_t> ids_;
  std::string path_;
  bool lower_case_ = true;
  int64_t pad_ = 0, unk_ = 0, cls_ = 0, sep_ = 0, mask_ = 0;
};

}  // namespace slimformer::data
