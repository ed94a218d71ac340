// SQuAD question/passage windows: words keep their byte ranges, overlapping windows cover every
// passage token with exactly one best-context window, and the gold answers survive alignment to
// sub-word tokens and back to text.
#include "slimformer/data/squad_windows.h"

#include <gtest/gtest.h>

#include "slimformer/eval/squad_metrics.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

using testing::expect_user_error;

std::shared_ptr<data::Tokenizer> bundled_tokenizer() {
  return data::load_tokenizer_file(testing::source_dir() / "models/multi30k-base/tokenizer.model");
}

data::SquadDataset first_articles(int64_t n) {
  auto dev = data::read_squad(testing::data_file("squad/dev-v1.1.json.gz"));
  dev.articles.resize(n);
  return dev;
}

TEST(SquadWindows, SplitsWordsAtUnicodeWhitespace) {
  auto tokenizer = bundled_tokenizer();
  // A no-break space (U+00A0) separates words as Python's str.split() does; "é" is two bytes.
  const std::string context =
      " A  café\xc2\xa0"
      "bar\n(1895).";
  auto p = data::split_passage(context, *tokenizer);
  ASSERT_EQ(p.word_begin.size(), 4u);
  std::vector<std::string> words;
  for (size_t w = 0; w < 4; ++w)
    words.push_back(context.substr(p.word_begin[w], p.word_end[w] - p.word_begin[w]));
  EXPECT_EQ(words, (std::vector<std::string>{"A", "café", "bar", "(1895)."}));
  ASSERT_EQ(p.token_word.size(), p.tokens.size());
  for (size_t w = 0; w < 4; ++w) EXPECT_EQ(p.token_word[p.word_first_token[w]], int64_t(w));
  const int64_t last = int64_t(p.tokens.size()) - 1;
  EXPECT_EQ(data::answer_text(p, *tokenizer, p.word_first_token[3], last), "(1895).");
  EXPECT_EQ(data::answer_text(p, *tokenizer, p.word_first_token[0], p.word_first_token[2] - 1),
            "A  café");  // the original text, spaces included
  // Tokens inside a word give their own text, not the whole word's.
  if (last - p.word_first_token[3] >= 2) {
    const std::string inner = data::answer_text(p, *tokenizer, p.word_first_token[3] + 1, last - 1);
    EXPECT_NE(inner, "(1895).");
    EXPECT_NE(std::string("(1895).").find(inner), std::string::npos) << inner;
  }
}

TEST(SquadWindows, CoverEveryTokenOnceAtItsBestContext) {
  auto tokenizer = bundled_tokenizer();
  data::SquadWindowOptions options{64, 16, 16};
  auto f = data::make_squad_windows(first_articles(2), *tokenizer, options);
  ASSERT_GT(f.windows.size(), f.questions.size());  // passages longer than one window
  std::vector<std::vector<int>> best_count(f.questions.size());
  for (const auto& w : f.windows) {
    const auto& p = f.passages[f.questions[w.question].passage];
    ASSERT_LE(int64_t(w.input.tokens.size()), options.max_length);
    ASSERT_EQ(w.input.tokens.size(), w.input.segments.size());
    EXPECT_EQ(w.input.tokens[0], tokenizer->bos_id());
    EXPECT_EQ(w.input.tokens[w.input_offset - 1], tokenizer->eos_id());
    EXPECT_EQ(w.input.segments[w.input_offset - 1], 0);
    EXPECT_EQ(w.input.segments[w.input_offset], 1);
    EXPECT_EQ(int64_t(w.input.tokens.size()), w.input_offset + w.length + 1);
    for (int64_t j = 0; j < w.length; ++j)
      ASSERT_EQ(w.input.tokens[w.input_offset + j], p.tokens[w.passage_offset + j]);
    auto& count = best_count[w.question];
    count.resize(p.tokens.size());
    for (int64_t j = 0; j < w.length; ++j) count[w.passage_offset + j] += w.max_context[j];
  }
  for (size_t q = 0; q < best_count.size(); ++q)
    for (int c : best_count[q]) ASSERT_EQ(c, 1) << f.questions[q].id;
}

TEST(SquadWindows, GoldAnswersSurviveAlignmentToSubwords) {
  auto tokenizer = bundled_tokenizer();
  const auto dev = first_articles(3);
  auto f = data::make_squad_windows(dev, *tokenizer, {128, 64, 32});
  std::map<std::string, std::string> predictions;
  for (const auto& q : f.questions) {
    ASSERT_GE(q.answer_first, 0) << q.id;
    predictions[q.id] =
        data::answer_text(f.passages[q.passage], *tokenizer, q.answer_first, q.answer_last);
  }
  // Word-level alignment loses a little where an answer is part of a word ("1990s" for "1990");
  // narrowing to sub-words recovers most of it.
  auto score = eval::squad_score(dev, predictions);
  EXPECT_GT(score.exact_match, 97.0);
  EXPECT_GT(score.f1, 98.5);
  // Windows that hold the answer point at its tokens; the others at [CLS].
  for (const auto& w : f.windows) {
    const auto& q = f.questions[w.question];
    const bool inside =
        q.answer_first >= w.passage_offset && q.answer_last < w.passage_offset + w.length;
    if (!inside) {
      EXPECT_EQ(w.start, 0);
      EXPECT_EQ(w.end, 0);
      continue;
    }
    EXPECT_EQ(w.start - w.input_offset + w.passage_offset, q.answer_first);
    EXPECT_EQ(w.end - w.input_offset + w.passage_offset, q.answer_last);
  }
}

TEST(SquadWindows, QuestionIndependentWindowsAreThePassages) {
  auto tokenizer = bundled_tokenizer();
  data::SquadWindowOptions options{64, 16, 16};
  options.question_independent = true;
  auto f = data::make_squad_windows(first_articles(1), *tokenizer, options);
  // Every question about a passage gets the same windows, whatever its length.
  std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> spans;
  std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> first;
  int64_t last_question = -1;
  for (const auto& w : f.windows) {
    const int64_t passage = f.questions[w.question].passage;
    if (w.question != last_question) spans[passage].clear(), last_question = w.question;
    spans[passage].emplace_back(w.passage_offset, w.length);
    EXPECT_LE(w.length, options.max_length - options.max_query_length - 3);
    if (!first.count(passage) || first[passage].size() < spans[passage].size())
      first[passage] = spans[passage];
    else
      EXPECT_EQ(spans[passage].back(), first[passage][spans[passage].size() - 1]);
  }
  const auto& p = f.passages[0];
  EXPECT_EQ(first[0], data::passage_windows(int64_t(p.tokens.size()), 64 - 16 - 3, 16));
}

TEST(SquadWindows, RefuseALengthWithNoRoomForThePassage) {
  auto tokenizer = bundled_tokenizer();
  expect_user_error(
      [&] {
        data::make_squad_windows(first_articles(1), *tokenizer, {32, 16, 29});
      },
      "SQuAD windows: max_length 32 leaves no room for the passage after a question of "
      "max_query_length 29 and three special tokens");
}

}  // namespace
}  // namespace slimformer
