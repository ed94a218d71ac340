// Corpus BLEU exactly as sacreBLEU computes it by default: 13a tokenization, cased, 4-gram,
// exponential smoothing, brevity penalty against the closest reference length.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace slimformer::eval {

struct BleuResult {
  double score = 0.0;                  // 0..100
  std::array<double, 4> precisions{};  // 0..100
  double brevity_penalty = 0.0;
  int64_t hypothesis_length = 0;
  int64_t reference_length = 0;
  size_t num_references = 1;
  // sacreBLEU's signature and its usual one-line rendering.
  std::string signature() const;
  std::string format() const;
};

// Length in bytes of the whitespace character at text[i] as Python's str.split() sees it (ASCII
// whitespace, \x1c-\x1f, and the Unicode spaces U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028,
// U+2029, U+202F, U+205F, U+3000), or 0. sacreBLEU splits words and strips spaces with it.
size_t python_whitespace_length(const std::string& text, size_t i);

// The mteval-v13a tokenizer as sacreBLEU implements it.
std::string tokenize_13a(const std::string& line);

// references[r][i] is the r-th reference of hypothesis i (sacreBLEU's layout).
BleuResult corpus_bleu(const std::vector<std::string>& hypotheses,
                       const std::vector<std::vector<std::string>>& references);

}  // namespace slimformer::eval
