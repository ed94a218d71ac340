// Readers and metrics of the encoder tasks: GLUE TSV files and metrics, SQuAD v1.1 JSON and the
// official EM/F1, and BERT's WordPiece tokenizer.
#include <gtest/gtest.h>

#include "slimformer/data/glue.h"
#include "slimformer/data/squad.h"
#include "slimformer/data/wordpiece.h"
#include "slimformer/eval/glue_metrics.h"
#include "slimformer/eval/squad_metrics.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

using testing::data_file;
using testing::expect_user_error;
using testing::TempDir;
using testing::write_file;

TEST(Glue, ReadsEveryBundledFileWithTheStandardRowCounts) {
  const std::vector<std::tuple<std::string, std::string, size_t>> files = {
      {"SST-2", "train", 67349}, {"SST-2", "dev", 872},   {"MRPC", "train", 3667},
      {"MRPC", "dev", 408},      {"CoLA", "train", 8551}, {"CoLA", "dev", 1043},
      {"STS-B", "train", 5749},  {"STS-B", "dev", 1500},  {"WNLI", "train", 635},
      {"WNLI", "dev", 71},       {"QNLI", "dev", 5463}};
  for (const auto& [task, split, rows] : files) {
    const auto& info = data::glue_task(task);
    auto examples = data::read_glue(data_file("glue/" + task + "/" + split + ".tsv.gz"), info);
    EXPECT_EQ(examples.size(), rows) << task << " " << split;
    EXPECT_EQ(examples[0].text_b.empty(), !info.pair) << task;
  }
  auto mrpc = data::read_glue(data_file("glue/MRPC/dev.tsv.gz"), data::glue_task("mrpc"));
  EXPECT_EQ(mrpc[0].text_a.substr(0, 3), "He ");
  EXPECT_EQ(mrpc[0].label, 1);
  auto stsb = data::read_glue(data_file("glue/STS-B/dev.tsv.gz"), data::glue_task("sts-b"));
  EXPECT_DOUBLE_EQ(stsb[0].label, 5.0);
  auto qnli = data::read_glue(data_file("glue/QNLI/dev.tsv.gz"), data::glue_task("QNLI"));
  EXPECT_TRUE(qnli[0].label == 0 || qnli[0].label == 1);
}

TEST(Glue, RefusesMalformedRowsAndUnknownTasks) {
  TempDir dir;
  auto file = write_file(
      dir / "bad.tsv", "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tA.\tB.\n1\t3\tC.\n");
  expect_user_error([&] { data::read_glue(file, data::glue_task("MRPC")); },
                    file + ":3: expected 5 tab-separated columns for MRPC, got 3");
  auto label = write_file(dir / "label.tsv", "sentence\tlabel\ngood\t2\n");
  expect_user_error([&] { data::read_glue(label, data::glue_task("SST-2")); },
                    label + ":2: label \"2\" is not one of 0, 1");
  expect_user_error(
      [] { data::glue_task("mnli"); },
      "unknown GLUE task mnli (expected one of SST-2, MRPC, CoLA, STS-B, WNLI, QNLI)");
}

TEST(GlueMetrics, MatchTheirDefinitions) {
  // tp 2, fp 1, fn 1, tn 1
  std::vector<int64_t> predicted = {1, 1, 0, 0, 1}, gold = {1, 0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(eval::accuracy(predicted, gold), 0.6);
  EXPECT_NEAR(eval::binary_f1(predicted, gold), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(eval::matthews_correlation(predicted, gold), 1.0 / 6.0, 1e-12);
  EXPECT_EQ(eval::matthews_correlation({1, 1, 1}, {1, 0, 1}), 0.0);  // undefined: 0
  auto mrpc = eval::glue_score(data::glue_task("MRPC"), {1, 1, 0, 0, 1}, {1, 0, 0, 1, 1});
  EXPECT_EQ(mrpc.leaderboard, "MRPC 66.7/60.0");
  EXPECT_EQ(mrpc.primary, "f1");
  auto cola = eval::glue_score(data::glue_task("CoLA"), {1, 1, 0, 0, 1}, {1, 0, 0, 1, 1});
  EXPECT_EQ(cola.leaderboard, "CoLA 16.7");
  auto stsb = eval::glue_score(data::glue_task("STS-B"), {1, 2, 3, 4}, {1.5, 2, 2.5, 5});
  EXPECT_EQ(stsb.primary, "pearson");
  EXPECT_NEAR(stsb.metrics["spearman"], 1.0, 1e-12);
}

TEST(Squad, ReadsTheDevSetAndSplitsByArticle) {
  auto dev = data::read_squad(data_file("squad/dev-v1.1.json.gz"));
  EXPECT_EQ(dev.version, "1.1");
  EXPECT_EQ(dev.articles.size(), 48u);
  EXPECT_EQ(dev.num_questions(), 10570);
  auto [train, held_out] = data::split_by_article(dev, 8);
  EXPECT_EQ(train.num_questions(), 8981);
  EXPECT_EQ(held_out.num_questions(), 1589);
  EXPECT_EQ(held_out.articles.front().title, "Prime_number");
  // Offsets are bytes now: every answer sits where it says, multi-byte characters included.
  std::map<std::string, std::string> gold;
  for (const auto& a : dev.articles)
    for (const auto& p : a.paragraphs)
      for (const auto& q : p.questions) {
        for (const auto& answer : q.answers)
          ASSERT_EQ(p.context.substr(answer.start, answer.text.size()), answer.text) << q.id;
        gold[q.id] = q.answers[0].text;
      }
  auto score = eval::squad_score(dev, gold);
  EXPECT_DOUBLE_EQ(score.exact_match, 100.0);
  EXPECT_DOUBLE_EQ(score.f1, 100.0);
  gold.erase(gold.begin());
  EXPECT_EQ(eval::squad_score(dev, gold).unanswered, 1);
}

TEST(Squad, RefusesAnswersThatDoNotMatchTheirOffsets) {
  TempDir dir;
  auto file = write_file(dir / "bad.json", R"({"version": "1.1", "data": [{"title": "T",
    "paragraphs": [{"context": "Café au lait is served.", "qas": [
      {"id": "q1", "question": "What?", "answers": [{"text": "au lait", "answer_start": 5}]},
      {"id": "q2", "question": "Where?", "answers": [{"text": "served", "answer_start": 3}]}]}]}]})");
  expect_user_error([&] { data::read_squad(file); },
                    file +
                        ": question q2: answer \"served\" does not match the paragraph at "
                        "character 3 (found \"é au l\")");
  auto missing =
      write_file(dir / "missing.json",
                 R"({"data": [{"paragraphs": [{"context": "x", "qas": [{"id": "q"}]}]}]})");
  expect_user_error([&] { data::read_squad(missing); },
                    missing + ": data[0].paragraphs[0].qas[0]: missing field \"question\"");
}

TEST(SquadMetrics, NormalizeAndScoreAsTheOfficialScript) {
  // Expected values computed with evaluate-v1.1.py's functions.
  EXPECT_EQ(eval::normalize_answer("The Denver Broncos!"), "denver broncos");
  EXPECT_EQ(eval::normalize_answer("  a  theatre\u2013the  An apple, THE end."),
            "theatre\u2013 apple end");
  EXPECT_EQ(eval::normalize_answer("\u00c9lan Vital: the 'best'\u2014an answer"),
            "\u00e9lan vital best\u2014 answer");
  EXPECT_EQ(eval::normalize_answer("A_the an_a"), "athe ana");
  EXPECT_EQ(eval::normalize_answer("Stra\u00dfe \u00dcn\u00efcode\u00a0spaces"),
            "stra\u00dfe \u00fcn\u00efcode spaces");
  EXPECT_DOUBLE_EQ(eval::squad_f1("the Denver Broncos won", "Denver Broncos"), 0.8);
  EXPECT_NEAR(eval::squad_f1("a b b c", "b c c d"), 0.5714285714285715, 1e-12);
  EXPECT_EQ(eval::squad_f1("the", "a"), 0.0);
  EXPECT_EQ(eval::squad_exact_match("The end.", "end"), 1.0);
}

TEST(WordPiece, TokenizesAsBert) {
  TempDir dir;
  auto vocab = write_file(dir / "vocab.txt",
                          "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nwant\n##want\n##ed\nwa\nun\nrunn\n"
                          "##ing\n,\nhello\n!\nhow\nare\nyou\n?\n\u535a\n");
  auto t = data::WordPieceTokenizer::load(vocab);
  EXPECT_EQ(t.basic_tokenize("UNwant\u00e9d,running"),
            (std::vector<std::string>{"unwanted", ",", "running"}));
  EXPECT_EQ(t.basic_tokenize(" \tHeLLo!how  \n Are yoU?  "),
            (std::vector<std::string>{"hello", "!", "how", "are", "you", "?"}));
  EXPECT_EQ(t.basic_tokenize("ah\u535a\u63a8zz"),
            (std::vector<std::string>{"ah", "\u535a", "\u63a8", "zz"}));
  EXPECT_EQ(t.basic_tokenize("H\u00e9llo"), std::vector<std::string>{"hello"});
  auto ids = t.encode("unwanted running");
  std::vector<std::string> pieces;
  for (auto id : ids) pieces.push_back(t.piece(id));
  EXPECT_EQ(pieces, (std::vector<std::string>{"un", "##want", "##ed", "runn", "##ing"}));
  EXPECT_EQ(t.encode("unwantedX running"), (std::vector<int64_t>{t.unk_id(), 10, 11}));
  EXPECT_EQ(t.decode(ids), "unwanted running");
  auto cased = data::WordPieceTokenizer::load(vocab, /*lower_case=*/false);
  EXPECT_EQ(cased.basic_tokenize("H\u00e9llo"), std::vector<std::string>{"H\u00e9llo"});

  auto no_mask = write_file(dir / "no_mask.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n");
  expect_user_error([&] { data::WordPieceTokenizer::load(no_mask); },
                    no_mask + ": the vocabulary has no [MASK] piece");
  auto twice = write_file(dir / "twice.txt", "[PAD]\nhello\nhello\n");
  expect_user_error([&] { data::WordPieceTokenizer::load(twice); },
                    twice + ":3: piece \"hello\" appears twice in the vocabulary");
}

}  // namespace
}  // namespace slimformer
