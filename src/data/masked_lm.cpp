#include "slimformer/data/masked_lm.h"

#include <algorithm>
#include <random>

namespace slimformer::data {

namespace {

SegmentPair make_pair(const std::vector<std::vector<int64_t>>& lines, size_t first, size_t split,
                      size_t end, int64_t max_length, const SpecialIds& special) {
  std::vector<int64_t> a, b;
  for (size_t i = first; i < split; ++i) a.insert(a.end(), lines[i].begin(), lines[i].end());
  for (size_t i = split; i < end; ++i) b.insert(b.end(), lines[i].begin(), lines[i].end());
  // Longest-first truncation to fit the special tokens.
  const int64_t budget = max_length - (b.empty() ? 2 : 3);
  while (static_cast<int64_t>(a.size() + b.size()) > budget)
    (a.size() >= b.size() ? a : b).pop_back();
  SegmentPair pair;
  pair.tokens.push_back(special.cls);
  pair.tokens.insert(pair.tokens.end(), a.begin(), a.end());
  pair.tokens.push_back(special.sep);
  pair.segments.assign(pair.tokens.size(), 0);
  if (!b.empty()) {
    pair.tokens.insert(pair.tokens.end(), b.begin(), b.end());
    pair.tokens.push_back(special.sep);
    pair.segments.resize(pair.tokens.size(), 1);
  }
  return pair;
}

// Lines longer than a pair holds, split into pieces of half a pair, so that a long paragraph
// becomes consecutive pairs (A and B in reading order) instead of losing its tail.
std::vector<std::vector<int64_t>> split_long_lines(const std::vector<std::vector<int64_t>>& lines,
                                                   int64_t target) {
  const size_t piece = static_cast<size_t>(std::max<int64_t>(target / 2, 1));
  std::vector<std::vector<int64_t>> out;
  out.reserve(lines.size());
  for (const auto& line : lines) {
    if (static_cast<int64_t>(line.size()) <= target) {
      out.push_back(line);
      continue;
    }
    for (size_t start = 0; start < line.size(); start += piece)
      out.emplace_back(line.begin() + start, line.begin() + std::min(start + piece, line.size()));
  }
  return out;
}

}  // namespace

std::vector<SegmentPair> make_segment_pairs(const std::vector<std::vector<int64_t>>& text_lines,
                                            int64_t max_length, const SpecialIds& special,
                                            uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<SegmentPair> pairs;
  const int64_t target = max_length - 3;
  const auto lines = split_long_lines(text_lines, target);
  size_t first = 0;
  while (first < lines.size()) {
    if (lines[first].empty()) {
      ++first;
      continue;
    }
    // Gather lines until the pair is full (at least one line).
    size_t end = first;
    int64_t length = 0;
    while (end < lines.size() && (end == first || length + int64_t(lines[end].size()) <= target))
      length += lines[end++].size();
    // Split at a random line boundary when there are two lines or more.
    const size_t split =
        end - first >= 2
            ? first + 1 + std::uniform_int_distribution<size_t>(0, end - first - 2)(rng)
            : end;
    pairs.push_back(make_pair(lines, first, split, end, max_length, special));
    first = end;
  }
  return pairs;
}

PairBatch pad_pairs(const std::vector<const SegmentPair*>& rows, int64_t pad) {
  size_t longest = 0;
  for (const auto* p : rows) longest = std::max(longest, p->tokens.size());
  const int64_t n = static_cast<int64_t>(rows.size()), cols = static_cast<int64_t>(longest);
  std::vector<int64_t> tokens(n * cols, pad), segments(n * cols, 0);
  for (int64_t r = 0; r < n; ++r) {
    std::copy(rows[r]->tokens.begin(), rows[r]->tokens.end(), tokens.begin() + r * cols);
    std::copy(rows[r]->segments.begin(), rows[r]->segments.end(), segments.begin() + r * cols);
  }
  return {torch::tensor(tokens, torch::kLong).view({n, cols}),
          torch::tensor(segments, torch::kLong).view({n, cols})};
}

std::vector<int64_t> pair_lengths(const std::vector<SegmentPair>& pairs) {
  std::vector<int64_t> lengths;
  for (const auto& p : pairs) lengths.push_back(static_cast<int64_t>(p.tokens.size()));
  return lengths;
}

MaskedBatch mask_batch(const std::vector<SegmentPair>& pairs, const std::vector<int64_t>& indices,
                       const SpecialIds& special, int64_t vocab_size, double probability,
                       uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::uniform_int_distribution<int64_t> any_token(0, vocab_size - 1);
  auto is_special = [&](int64_t id) {
    return id == special.pad || id == special.cls || id == special.sep || id == special.mask;
  };
  size_t longest = 0;
  for (int64_t i : indices) longest = std::max(longest, pairs[i].tokens.size());
  const int64_t rows = static_cast<int64_t>(indices.size()), cols = static_cast<int64_t>(longest);
  std::vector<int64_t> tokens(rows * cols, special.pad), segments(rows * cols, 0),
      targets(rows * cols, special.pad);
  for (int64_t r = 0; r < rows; ++r) {
    const auto& pair = pairs[indices[r]];
    for (size_t c = 0; c < pair.tokens.size(); ++c) {
      const int64_t at = r * cols + static_cast<int64_t>(c), token = pair.tokens[c];
      tokens[at] = token, segments[at] = pair.segments[c];
      if (is_special(token) || uniform(rng) >= probability) continue;
      targets[at] = token;
      const double action = uniform(rng);
      if (action < 0.8) {
        tokens[at] = special.mask;
      } else if (action < 0.9) {
        int64_t replacement;
        do replacement = any_token(rng);
        while (is_special(replacement));
        tokens[at] = replacement;
      }
    }
  }
  auto to_tensor = [&](const std::vector<int64_t>& v) {
    return torch::tensor(v, torch::kLong).view({rows, cols});
  };
  return {to_tensor(tokens), to_tensor(segments), to_tensor(targets)};
}

}  // namespace slimformer::data
