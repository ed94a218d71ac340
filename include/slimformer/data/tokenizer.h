// The tokenizer interface every model family uses: text to ids and back, the special ids, and
// the file that holds it in a checkpoint directory. Implementations: sentencepiece (Vocab) and
// llama2.c's tokenizer.bin (Llama2cTokenizer).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace slimformer::data {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Ids of `text` without BOS or EOS.
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  // Text of `ids`; special tokens are dropped and the first piece loses its word-start space.
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual int64_t size() const = 0;
  virtual int64_t bos_id() const = 0;
  virtual int64_t eos_id() const = 0;
  // Padding and the masked-LM mask token; -1 where the vocabulary has none.
  virtual int64_t pad_id() const { return -1; }
  virtual int64_t mask_id() const { return -1; }
  // What ends a line of running text: </s> where lines are sentences (sentencepiece models
  // here are trained per sentence), the newline itself where the tokenizer can encode it.
  virtual std::vector<int64_t> line_end_ids() const = 0;
  // The file the tokenizer was loaded from, and its name inside a checkpoint directory.
  virtual const std::string& path() const = 0;
  virtual std::string checkpoint_file_name() const = 0;
  // Copies the tokenizer's file(s) into a checkpoint directory.
  virtual void save_to(const std::filesystem::path& dir) const;
};

// Loads the tokenizer of a checkpoint directory: tokenizer.model (sentencepiece), tokenizer.bin
// (llama2.c) or vocab.txt (WordPiece, lower-casing per tokenizer_config.json's do_lower_case,
// default true); a UserError naming the directory if it has none.
std::shared_ptr<Tokenizer> load_checkpoint_tokenizer(const std::filesystem::path& dir);

// Loads a tokenizer file: a sentencepiece model if its name ends in .model, a WordPiece
// vocabulary (lower-casing) if it ends in .txt, otherwise a llama2.c tokenizer.bin.
std::shared_ptr<Tokenizer> load_tokenizer_file(const std::filesystem::path& path);

}  // namespace slimformer::data
