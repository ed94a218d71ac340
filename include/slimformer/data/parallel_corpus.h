// Parallel text: two line-aligned files (plain or gzipped), tokenized into id sequences and
// grouped into batches by token count with length bucketing.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "slimformer/data/vocab.h"

namespace slimformer::data {

struct ParallelText {
  std::vector<std::string> source;
  std::vector<std::string> target;
};

// Reads both files; a UserError naming both if their line counts differ.
ParallelText read_parallel(const std::string& source_path, const std::string& target_path);

struct TokenizedPairs {
  std::vector<std::vector<int64_t>> source;  // ids, ending with </s>
  std::vector<std::vector<int64_t>> target;  // ids, ending with </s>
  size_t size() const { return source.size(); }
};

// Encodes both sides; pairs with a side longer than max_length tokens (counting </s>) are
// dropped (max_length <= 0 keeps all).
TokenizedPairs tokenize_pairs(const ParallelText& text, const Vocab& vocab, int64_t max_length);

// The length each pair takes in a teacher-forcing batch: the longer of source and target + <s>.
std::vector<int64_t> pair_lengths(const TokenizedPairs& pairs);

// Index lists of examples, each batch holding at most max_tokens tokens counting padding
// (batch size x longest sequence). Examples are sorted by length so padding stays small; with
// shuffle, ties are broken and batch order is permuted by `seed`.
std::vector<std::vector<int64_t>> batch_by_tokens(const std::vector<int64_t>& lengths,
                                                  int64_t max_tokens, bool shuffle, uint64_t seed);

// Pads sequences into a [B, T] int64 tensor; with `bos`, prepends it to every row.
torch::Tensor pad_sequences(const std::vector<const std::vector<int64_t>*>& sequences, int64_t pad,
                            std::optional<int64_t> bos = std::nullopt);

// A teacher-forcing batch: src [B, S], tgt_in = <s> y (without the last token), tgt_out = y </s>.
struct TranslationBatch {
  torch::Tensor src, tgt_in, tgt_out;
  int64_t target_tokens = 0;
  TranslationBatch to(const torch::Device& device) const;
};
TranslationBatch make_translation_batch(const TokenizedPairs& pairs,
                                        const std::vector<int64_t>& indices);

}  // namespace slimformer::data
