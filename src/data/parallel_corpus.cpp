#include "slimformer/data/parallel_corpus.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "slimformer/core/error.h"
#include "slimformer/data/text_file.h"

namespace slimformer::data {

ParallelText read_parallel(const std::string& source_path, const std::string& target_path) {
  ParallelText text{read_lines(source_path), read_lines(target_path)};
  if (text.source.size() != text.target.size())
    throw core::UserError(
        fmt::format("{} has {} lines but {} has {}: parallel files must align line by line",
                    source_path, text.source.size(), target_path, text.target.size()));
  return text;
}

TokenizedPairs tokenize_pairs(const ParallelText& text, const Vocab& vocab, int64_t max_length) {
  TokenizedPairs out;
  for (size_t i = 0; i < text.source.size(); ++i) {
    auto src = vocab.encode(text.source[i]);
    auto tgt = vocab.encode(text.target[i]);
    src.push_back(Vocab::kEos);
    tgt.push_back(Vocab::kEos);
    if (max_length > 0 && (int64_t(src.size()) > max_length || int64_t(tgt.size()) > max_length))
      continue;
    out.source.push_back(std::move(src));
    out.target.push_back(std::move(tgt));
  }
  return out;
}

std::vector<int64_t> pair_lengths(const TokenizedPairs& pairs) {
  std::vector<int64_t> lengths;
  for (size_t i = 0; i < pairs.size(); ++i)
    lengths.push_back(std::max(pairs.source[i].size(), pairs.target[i].size() + 1));
  return lengths;
}

std::vector<std::vector<int64_t>> batch_by_tokens(const std::vector<int64_t>& lengths,
                                                  int64_t max_tokens, bool shuffle, uint64_t seed) {
  std::vector<int64_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  if (shuffle) std::shuffle(order.begin(), order.end(), rng);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return lengths[a] < lengths[b]; });

  std::vector<std::vector<int64_t>> batches;
  std::vector<int64_t> current;
  int64_t longest = 0;
  for (int64_t index : order) {
    int64_t grown = std::max(longest, lengths[index]);
    if (!current.empty() && grown * int64_t(current.size() + 1) > max_tokens) {
      batches.push_back(std::move(current));
      current.clear();
      grown = lengths[index];
    }
    current.push_back(index);
    longest = grown;
  }
  if (!current.empty()) batches.push_back(std::move(current));
  if (shuffle) std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

torch::Tensor pad_sequences(const std::vector<const std::vector<int64_t>*>& sequences, int64_t pad,
                            std::optional<int64_t> bos) {
  const int64_t offset = bos ? 1 : 0;
  int64_t longest = 0;
  for (const auto* s : sequences) longest = std::max<int64_t>(longest, s->size());
  torch::Tensor out =
      torch::full({int64_t(sequences.size()), longest + offset}, pad, torch::kInt64);
  auto acc = out.accessor<int64_t, 2>();
  for (size_t row = 0; row < sequences.size(); ++row) {
    if (bos) acc[row][0] = *bos;
    for (size_t j = 0; j < sequences[row]->size(); ++j) acc[row][j + offset] = (*sequences[row])[j];
  }
  return out;
}

TranslationBatch TranslationBatch::to(const torch::Device& device) const {
  return {src.to(device), tgt_in.to(device), tgt_out.to(device), target_tokens};
}

TranslationBatch make_translation_batch(const TokenizedPairs& pairs,
                                        const std::vector<int64_t>& indices) {
  std::vector<const std::vector<int64_t>*> src, tgt;
  int64_t tokens = 0;
  for (int64_t i : indices) {
    src.push_back(&pairs.source[i]);
    tgt.push_back(&pairs.target[i]);
    tokens += pairs.target[i].size();
  }
  TranslationBatch batch;
  batch.src = pad_sequences(src, Vocab::kPad);
  torch::Tensor with_bos = pad_sequences(tgt, Vocab::kPad, Vocab::kBos);  // <s> y </s>
  const int64_t t = with_bos.size(1);
  batch.tgt_in = with_bos.narrow(1, 0, t - 1).clone();
  batch.tgt_out = with_bos.narrow(1, 1, t - 1).clone();
  // tgt_in keeps </s> only where it is followed by padding: harmless, its loss is masked.
  batch.target_tokens = tokens;
  return batch;
}

}  // namespace slimformer::data
