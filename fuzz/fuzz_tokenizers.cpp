// Tokenizer files: WordPiece vocab.txt (BERT) and llama2.c tokenizer.bin; the first byte picks
// which. A loaded tokenizer also encodes and decodes a sentence.
#include "fuzz_input.h"
#include "slimformer/data/llama2c_tokenizer.h"
#include "slimformer/data/wordpiece.h"

using namespace slimformer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool wordpiece = data[0] & 1;
  const std::string path =
      fuzz::write_input(data + 1, size - 1, wordpiece ? "-vocab.txt" : "-tokenizer.bin");
  return fuzz::expect_user_errors_only([&] {
    const std::string text = "Once upon a time, Lily's cat met the MASK [UNK] \xc3\xa9t\xc3\xa9.";
    if (wordpiece) {
      const auto tokenizer = data::WordPieceTokenizer::load(path, data[0] & 2);
      tokenizer.decode(tokenizer.encode(text));
    } else {
      const auto tokenizer = data::Llama2cTokenizer::load(path);
      tokenizer.decode(tokenizer.encode(text));
    }
  });
}
