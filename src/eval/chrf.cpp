#include "slimformer/eval/chrf.h"

#include <fmt/format.h>

#include <array>
#include <map>

#include "slimformer/core/error.h"
#include "slimformer/eval/bleu.h"

namespace slimformer::eval {

namespace {

constexpr int kOrder = 6;
constexpr double kBeta = 2.0;

// The code points of `text` (UTF-8) without whitespace (as str.split() knows it); each kept as
// its UTF-8 bytes.
std::vector<std::string> code_points_without_spaces(const std::string& text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    if (size_t space = python_whitespace_length(text, i)) {
      i += space;
      continue;
    }
    unsigned char c = text[i];
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 1;
    len = std::min(len, text.size() - i);
    out.push_back(text.substr(i, len));
    i += len;
  }
  return out;
}

using Counts = std::map<std::string, int64_t>;

Counts char_ngrams(const std::vector<std::string>& chars, size_t n) {
  Counts counts;
  for (size_t i = 0; i + n <= chars.size(); ++i) {
    std::string gram;
    for (size_t j = i; j < i + n; ++j) gram += chars[j];
    ++counts[gram];
  }
  return counts;
}

}  // namespace

ChrfResult corpus_chrf(const std::vector<std::string>& hypotheses,
                       const std::vector<std::string>& references) {
  if (hypotheses.size() != references.size())
    throw core::UserError(
        fmt::format("chrF: {} hypotheses but {} references", hypotheses.size(), references.size()));
  // Per order: hypothesis n-grams, reference n-grams, matches.
  std::array<std::array<int64_t, 3>, kOrder> stats{};
  for (size_t s = 0; s < hypotheses.size(); ++s) {
    auto hyp = code_points_without_spaces(hypotheses[s]);
    auto ref = code_points_without_spaces(references[s]);
    for (int n = 1; n <= kOrder; ++n) {
      auto h = char_ngrams(hyp, n), r = char_ngrams(ref, n);
      auto& st = stats[n - 1];
      for (const auto& [gram, count] : h) {
        st[0] += count;
        auto it = r.find(gram);
        if (it != r.end()) st[2] += std::min(count, it->second);
      }
      for (const auto& [gram, count] : r) st[1] += count;
    }
  }
  double precision = 0, recall = 0;
  int effective = 0;
  for (const auto& st : stats) {
    if (st[0] > 0 && st[1] > 0) {
      precision += double(st[2]) / st[0];
      recall += double(st[2]) / st[1];
      ++effective;
    }
  }
  ChrfResult result;
  if (effective == 0) return result;
  precision /= effective, recall /= effective;
  if (precision + recall == 0) return result;
  const double b2 = kBeta * kBeta;
  result.score = 100.0 * (1 + b2) * precision * recall / (b2 * precision + recall);
  return result;
}

}  // namespace slimformer::eval
