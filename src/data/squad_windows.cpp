#include "slimformer/data/squad_windows.h"

#include <fmt/format.h>

#include <algorithm>

#include "slimformer/core/error.h"
#include "slimformer/core/unicode.h"

namespace slimformer::data {

namespace {

// Bytes of the UTF-8 sequence that starts with `lead` (1 for a stray continuation byte).
int64_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

bool whitespace_at(const std::string& text, int64_t at, int64_t length) {
  const std::u32string c = core::utf8_to_code_points(text.substr(at, length));
  return c.size() == 1 && core::is_whitespace(c[0]);
}

// The token span [first, last] of the words the answer's bytes touch; -1s when none.
std::pair<int64_t, int64_t> answer_word_tokens(const SquadPassage& p, const SquadAnswer& answer) {
  const int64_t begin = answer.start, end = answer.start + int64_t(answer.text.size());
  const int64_t words = int64_t(p.word_begin.size());
  int64_t first_word = 0;
  while (first_word < words && p.word_end[first_word] <= begin) ++first_word;
  int64_t last_word = first_word;
  while (last_word + 1 < words && p.word_begin[last_word + 1] < end) ++last_word;
  if (first_word >= words) return {-1, -1};
  const int64_t first = p.word_first_token[first_word];
  const int64_t last =
      (last_word + 1 < words ? p.word_first_token[last_word + 1] : int64_t(p.tokens.size())) - 1;
  if (last < first) return {-1, -1};
  return {first, last};
}

// Narrows [first, last] to the first sub-span whose tokens are exactly the answer's own tokens,
// as BERT's _improve_answer_span does ("1895" inside "(1895-1943).").
std::pair<int64_t, int64_t> improve_answer_span(const SquadPassage& p, const Tokenizer& tokenizer,
                                                const std::string& answer, int64_t first,
                                                int64_t last) {
  const auto wanted = tokenizer.encode(answer);
  const int64_t n = int64_t(wanted.size());
  if (n == 0) return {first, last};
  for (int64_t i = first; i + n - 1 <= last; ++i)
    if (std::equal(wanted.begin(), wanted.end(), p.tokens.begin() + i)) return {i, i + n - 1};
  return {first, last};
}

// Fills max_context for the windows of one question: a token counts in the window where
// min(left context, right context) + 0.01 * window length is largest (the first on ties).
void mark_max_context(std::vector<SquadWindow>& windows, size_t from) {
  auto score = [](const SquadWindow& w, int64_t token) {
    const int64_t left = token - w.passage_offset, right = w.passage_offset + w.length - 1 - token;
    return double(std::min(left, right)) + 0.01 * double(w.length);
  };
  for (size_t w = from; w < windows.size(); ++w) {
    auto& window = windows[w];
    window.max_context.assign(window.length, 0);
    for (int64_t j = 0; j < window.length; ++j) {
      const int64_t token = window.passage_offset + j;
      size_t best = w;
      double best_score = score(window, token);
      for (size_t o = from; o < windows.size(); ++o) {
        const auto& other = windows[o];
        if (o == w || token < other.passage_offset || token >= other.passage_offset + other.length)
          continue;
        const double s = score(other, token);
        if (s > best_score || (s == best_score && o < best)) best = o, best_score = s;
      }
      window.max_context[j] = best == w;
    }
  }
}

}  // namespace

SquadPassage split_passage(const std::string& context, const Tokenizer& tokenizer) {
  SquadPassage p;
  p.context = context;
  const int64_t n = int64_t(context.size());
  int64_t at = 0;
  while (at < n) {
    const int64_t len = std::min(sequence_length(context[at]), n - at);
    if (whitespace_at(context, at, len)) {
      at += len;
      continue;
    }
    const int64_t begin = at;
    while (at < n) {
      const int64_t l = std::min(sequence_length(context[at]), n - at);
      if (whitespace_at(context, at, l)) break;
      at += l;
    }
    const int64_t word = int64_t(p.word_begin.size());
    p.word_begin.push_back(begin);
    p.word_end.push_back(at);
    p.word_first_token.push_back(int64_t(p.tokens.size()));
    for (int64_t id : tokenizer.encode(context.substr(begin, at - begin))) {
      p.tokens.push_back(id);
      p.token_word.push_back(word);
    }
  }
  return p;
}

std::vector<std::pair<int64_t, int64_t>> passage_windows(int64_t passage_tokens, int64_t room,
                                                         int64_t doc_stride) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t start = 0; start < passage_tokens;) {
    const int64_t length = std::min(room, passage_tokens - start);
    out.emplace_back(start, length);
    if (start + length >= passage_tokens) break;
    start += std::min(length, doc_stride);
  }
  return out;
}

int64_t passage_room(const SquadWindowOptions& options, int64_t question_tokens) {
  return options.max_length - 3 -
         (options.question_independent ? options.max_query_length : question_tokens);
}

SquadFeatures make_squad_windows(const SquadDataset& dataset, const Tokenizer& tokenizer,
                                 const SquadWindowOptions& options) {
  if (options.max_query_length < 1 || options.doc_stride < 1)
    throw core::UserError(
        fmt::format("SQuAD windows: max_query_length {} and doc_stride {} must "
                    "be positive",
                    options.max_query_length, options.doc_stride));
  const int64_t min_room = options.max_length - options.max_query_length - 3;
  if (min_room < 1)
    throw core::UserError(
        fmt::format("SQuAD windows: max_length {} leaves no room for the passage after a "
                    "question of max_query_length {} and three special tokens",
                    options.max_length, options.max_query_length));
  SquadFeatures f;
  for (const auto& article : dataset.articles)
    for (const auto& paragraph : article.paragraphs) {
      const int64_t passage = int64_t(f.passages.size());
      f.passages.push_back(split_passage(paragraph.context, tokenizer));
      const SquadPassage& p = f.passages.back();
      const int64_t n = int64_t(p.tokens.size());
      for (const auto& q : paragraph.questions) {
        SquadQuestionRef ref{q.id, passage, -1, -1};
        if (!q.answers.empty()) {
          auto [first, last] = answer_word_tokens(p, q.answers[0]);
          if (first >= 0)
            std::tie(first, last) =
                improve_answer_span(p, tokenizer, q.answers[0].text, first, last);
          ref.answer_first = first, ref.answer_last = last;
        }
        const int64_t question = int64_t(f.questions.size());
        f.questions.push_back(ref);

        auto query = tokenizer.encode(q.question);
        if (int64_t(query.size()) > options.max_query_length)
          query.resize(options.max_query_length);
        const int64_t room = passage_room(options, int64_t(query.size()));
        const size_t first_window = f.windows.size();
        for (auto [start, length] : passage_windows(n, room, options.doc_stride)) {
          SquadWindow w;
          w.question = question;
          w.passage_offset = start;
          w.length = length;
          w.input_offset = int64_t(query.size()) + 2;
          auto& in = w.input;
          in.tokens.push_back(tokenizer.bos_id());
          in.tokens.insert(in.tokens.end(), query.begin(), query.end());
          in.tokens.push_back(tokenizer.eos_id());
          in.segments.assign(in.tokens.size(), 0);
          in.tokens.insert(in.tokens.end(), p.tokens.begin() + start,
                           p.tokens.begin() + start + w.length);
          in.tokens.push_back(tokenizer.eos_id());
          in.segments.resize(in.tokens.size(), 1);
          if (ref.answer_first >= start && ref.answer_last < start + w.length) {
            w.start = w.input_offset + ref.answer_first - start;
            w.end = w.input_offset + ref.answer_last - start;
          }
          f.windows.push_back(std::move(w));
        }
        mark_max_context(f.windows, first_window);
      }
    }
  return f;
}

std::string answer_text(const SquadPassage& passage, const Tokenizer& tokenizer, int64_t first,
                        int64_t last) {
  const int64_t first_word = passage.token_word.at(first), last_word = passage.token_word.at(last);
  const std::string words = passage.context.substr(
      passage.word_begin[first_word], passage.word_end[last_word] - passage.word_begin[first_word]);
  std::string own = tokenizer.decode(
      std::vector<int64_t>(passage.tokens.begin() + first, passage.tokens.begin() + last + 1));
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  own.erase(own.begin(), std::find_if(own.begin(), own.end(), not_space));
  own.erase(std::find_if(own.rbegin(), own.rend(), not_space).base(), own.end());
  if (own.empty() || own.size() > words.size()) return words;
  // Lower-casing tokenizers give back lower case: compare ASCII letters without case.
  auto lower = [](std::string s) {
    for (char& c : s)
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return s;
  };
  const size_t at = lower(words).find(lower(own));
  return at == std::string::npos ? words : words.substr(at, own.size());
}

}  // namespace slimformer::data
