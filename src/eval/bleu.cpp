#include "slimformer/eval/bleu.h"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "slimformer/core/error.h"

namespace slimformer::eval {

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The characters of 13a's first rule: {-~ [-` space-& (-+ :-@ /
bool is_13a_symbol(char c) {
  auto in = [c](char lo, char hi) { return c >= lo && c <= hi; };
  return in('{', '~') || in('[', '`') || in(' ', '&') || in('(', '+') || in(':', '@') || c == '/';
}

// Applies a two-character rewrite rule left to right without overlaps, as re.sub does.
template <typename Match, typename Emit>
std::string rewrite_pairs(const std::string& s, Match match, Emit emit) {
  std::string out;
  out.reserve(s.size() * 2);
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && match(s[i], s[i + 1])) {
      emit(out, s[i], s[i + 1]);
      i += 2;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> words;
  std::string current;
  for (size_t i = 0; i < s.size();) {
    if (size_t n = python_whitespace_length(s, i)) {
      if (!current.empty()) words.push_back(std::move(current)), current.clear();
      i += n;
    } else {
      current += s[i++];
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

using NgramCounts = std::map<std::string, int64_t>;

NgramCounts count_ngrams(const std::vector<std::string>& words) {
  NgramCounts counts;
  for (size_t n = 1; n <= 4; ++n)
    for (size_t i = 0; i + n <= words.size(); ++i) {
      std::string key = std::to_string(n);
      for (size_t j = i; j < i + n; ++j) key += '\x1f' + words[j];
      ++counts[key];
    }
  return counts;
}

}  // namespace

size_t python_whitespace_length(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  const unsigned c = byte(i);
  if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)) return 1;
  if (c == 0xc2 && (byte(i + 1) == 0x85 || byte(i + 1) == 0xa0)) return 2;
  if (c == 0xe1 && byte(i + 1) == 0x9a && byte(i + 2) == 0x80) return 3;
  if (c == 0xe2 && byte(i + 1) == 0x80) {
    const unsigned t = byte(i + 2);
    if ((t >= 0x80 && t <= 0x8a) || t == 0xa8 || t == 0xa9 || t == 0xaf) return 3;
  }
  if (c == 0xe2 && byte(i + 1) == 0x81 && byte(i + 2) == 0x9f) return 3;
  if (c == 0xe3 && byte(i + 1) == 0x80 && byte(i + 2) == 0x80) return 3;
  return 0;
}

std::string tokenize_13a(const std::string& input) {
  std::string line = input;
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }
  line = " " + line + " ";
  std::string spaced;
  for (char c : line) {  // tokenize punctuation
    if (is_13a_symbol(c)) {
      spaced += ' ';
      spaced += c;
      spaced += ' ';
    } else {
      spaced += c;
    }
  }
  auto period_or_comma = [](char c) { return c == '.' || c == ','; };
  // period and comma unless preceded by a digit
  spaced = rewrite_pairs(
      spaced, [&](char a, char b) { return !is_digit(a) && period_or_comma(b); },
      [](std::string& o, char a, char b) { o += a, o += ' ', o += b, o += ' '; });
  // period and comma unless followed by a digit
  spaced = rewrite_pairs(
      spaced, [&](char a, char b) { return period_or_comma(a) && !is_digit(b); },
      [](std::string& o, char a, char b) { o += ' ', o += a, o += ' ', o += b; });
  // dash when preceded by a digit
  spaced = rewrite_pairs(
      spaced, [](char a, char b) { return is_digit(a) && b == '-'; },
      [](std::string& o, char a, char b) { o += a, o += ' ', o += b, o += ' '; });
  std::string joined;
  for (const auto& w : split_words(spaced)) joined += (joined.empty() ? "" : " ") + w;
  return joined;
}

BleuResult corpus_bleu(const std::vector<std::string>& hypotheses,
                       const std::vector<std::vector<std::string>>& references) {
  if (references.empty()) throw core::UserError("BLEU needs at least one reference stream");
  for (const auto& stream : references)
    if (stream.size() != hypotheses.size())
      throw core::UserError(fmt::format("BLEU: {} hypotheses but a reference stream has {} lines",
                                        hypotheses.size(), stream.size()));
  std::array<int64_t, 4> correct{}, total{};
  int64_t hyp_len = 0, ref_len = 0;
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    auto hyp_words = split_words(tokenize_13a(hypotheses[i]));
    NgramCounts max_ref_counts;
    int64_t closest = -1;
    for (const auto& stream : references) {
      auto ref_words = split_words(tokenize_13a(stream[i]));
      int64_t len = ref_words.size();
      int64_t diff = std::llabs(len - int64_t(hyp_words.size()));
      int64_t best = std::llabs(closest - int64_t(hyp_words.size()));
      if (closest < 0 || diff < best || (diff == best && len < closest)) closest = len;
      for (const auto& [ngram, count] : count_ngrams(ref_words))
        max_ref_counts[ngram] = std::max(max_ref_counts[ngram], count);
    }
    hyp_len += hyp_words.size();
    ref_len += closest;
    for (const auto& [ngram, count] : count_ngrams(hyp_words)) {
      size_t n = ngram[0] - '1';
      total[n] += count;
      auto it = max_ref_counts.find(ngram);
      if (it != max_ref_counts.end()) correct[n] += std::min(count, it->second);
    }
  }
  BleuResult result;
  result.hypothesis_length = hyp_len;
  result.reference_length = ref_len;
  result.num_references = references.size();
  // Exponential smoothing: the k-th zero-match order gets 1 / 2^k matches.
  double smooth = 1.0;
  double log_sum = 0.0;
  bool zero = false;
  for (int n = 0; n < 4; ++n) {
    if (total[n] == 0) {
      zero = true;
      break;
    }
    if (correct[n] == 0) {
      smooth *= 2;
      result.precisions[n] = 100.0 / (smooth * total[n]);
    } else {
      result.precisions[n] = 100.0 * correct[n] / total[n];
    }
    log_sum += std::log(result.precisions[n]);
  }
  // No n-gram of any order matched, or some order has no n-grams at all: sacreBLEU's score is 0.
  const bool no_match = correct[0] + correct[1] + correct[2] + correct[3] == 0;
  if (hyp_len == 0 || zero || no_match) return result;
  result.brevity_penalty = hyp_len < ref_len ? std::exp(1.0 - double(ref_len) / hyp_len) : 1.0;
  result.score = result.brevity_penalty * std::exp(log_sum / 4.0);
  return result;
}

std::string BleuResult::signature() const {
  return fmt::format("nrefs:{}|case:mixed|eff:no|tok:13a|smooth:exp|version:2.0.0", num_references);
}

std::string BleuResult::format() const {
  double ratio = reference_length ? double(hypothesis_length) / reference_length : 0.0;
  return fmt::format(
      "BLEU = {:.2f} {:.1f}/{:.1f}/{:.1f}/{:.1f} (BP = {:.3f} ratio = {:.3f} hyp_len = {} ref_len "
      "= {})",
      score, precisions[0], precisions[1], precisions[2], precisions[3], brevity_penalty, ratio,
      hypothesis_length, reference_length);
}

}  // namespace slimformer::eval
