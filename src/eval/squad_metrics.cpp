#include "slimformer/eval/squad_metrics.h"

#include <algorithm>
#include <unordered_map>

#include "slimformer/core/unicode.h"

namespace slimformer::eval {

namespace {

bool is_word(char32_t c) { return c == '_' || core::is_alnum(c); }  // regex \w

std::vector<std::string> split_words(const std::u32string& text) {
  std::vector<std::string> words;
  std::u32string current;
  for (char32_t c : text) {
    if (core::is_whitespace(c)) {
      if (!current.empty()) words.push_back(core::code_points_to_utf8(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) words.push_back(core::code_points_to_utf8(current));
  return words;
}

std::vector<std::string> normalized_words(const std::string& text) {
  // lower, remove punctuation
  std::u32string s;
  for (char32_t c : core::utf8_to_code_points(text))
    if (char32_t lower = core::to_lower(c); !core::is_ascii_punctuation(lower)) s += lower;
  // re.sub(r'\b(a|an|the)\b', ' ', s): a whole-word article becomes a space.
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const bool boundary_before = i == 0 || !is_word(s[i - 1]);
    size_t matched = 0;
    if (boundary_before) {
      for (const std::u32string article : {U"the", U"an", U"a"}) {
        const size_t n = article.size();
        if (s.compare(i, n, article) == 0 && (i + n == s.size() || !is_word(s[i + n]))) {
          matched = n;
          break;
        }
      }
    }
    if (matched) {
      out += U' ';
      i += matched;
    } else {
      out += s[i++];
    }
  }
  return split_words(out);
}

}  // namespace

std::string normalize_answer(const std::string& text) {
  std::string joined;
  for (const auto& w : normalized_words(text)) joined += (joined.empty() ? "" : " ") + w;
  return joined;
}

double squad_exact_match(const std::string& prediction, const std::string& gold) {
  return normalize_answer(prediction) == normalize_answer(gold) ? 1.0 : 0.0;
}

double squad_f1(const std::string& prediction, const std::string& gold) {
  auto predicted = normalized_words(prediction), truth = normalized_words(gold);
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& w : truth) ++counts[w];
  int64_t same = 0;
  for (const auto& w : predicted)
    if (auto it = counts.find(w); it != counts.end() && it->second > 0) --it->second, ++same;
  if (same == 0) return 0.0;
  const double precision = static_cast<double>(same) / predicted.size();
  const double recall = static_cast<double>(same) / truth.size();
  return 2 * precision * recall / (precision + recall);
}

SquadScore squad_score(const data::SquadDataset& dataset,
                       const std::map<std::string, std::string>& predictions) {
  SquadScore score;
  double em = 0, f1 = 0;
  for (const auto& article : dataset.articles)
    for (const auto& paragraph : article.paragraphs)
      for (const auto& question : paragraph.questions) {
        ++score.questions;
        auto it = predictions.find(question.id);
        if (it == predictions.end()) {
          ++score.unanswered;
          continue;
        }
        double best_em = 0, best_f1 = 0;
        for (const auto& answer : question.answers) {
          best_em = std::max(best_em, squad_exact_match(it->second, answer.text));
          best_f1 = std::max(best_f1, squad_f1(it->second, answer.text));
        }
        em += best_em, f1 += best_f1;
      }
  if (score.questions > 0) {
    score.exact_match = 100.0 * em / score.questions;
    score.f1 = 100.0 * f1 / score.questions;
  }
  return score;
}

}  // namespace slimformer::eval
