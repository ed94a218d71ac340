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

std::vector<data::TextExample> read(const std::string& path, const data::TextTask& task) {
  return data::read_text_task(path, task).examples;
}

TEST(Glue, ReadsEveryBundledFileWithTheStandardRowCounts) {
  const std::vector<std::tuple<std::string, std::string, size_t>> files = {
      {"SST-2", "train", 67349}, {"SST-2", "dev", 872},   {"MRPC", "train", 3667},
      {"MRPC", "dev", 408},      {"CoLA", "train", 8551}, {"CoLA", "dev", 1043},
      {"STS-B", "train", 5749},  {"STS-B", "dev", 1500},  {"WNLI", "train", 635},
      {"WNLI", "dev", 71},       {"QNLI", "dev", 5463}};
  for (const auto& [task, split, rows] : files) {
    const auto& info = data::glue_task(task);
    auto file = data::glue_file((testing::source_dir() / "data/glue").string(), info, split);
    auto examples = data::read_text_task(file, info).examples;
    EXPECT_EQ(examples.size(), rows) << task << " " << split;
    EXPECT_EQ(examples[0].text_b.empty(), !info.pair()) << task;
  }
  // MRPC's header starts with a byte order mark; its label column is named after it.
  auto mrpc = read(data_file("glue/MRPC/dev.tsv.gz"), data::glue_task("mrpc"));
  EXPECT_EQ(mrpc[0].text_a.substr(0, 3), "He ");
  EXPECT_EQ(mrpc[0].label, 1);
  auto stsb = read(data_file("glue/STS-B/dev.tsv.gz"), data::glue_task("sts-b"));
  EXPECT_DOUBLE_EQ(stsb[0].label, 5.0);
  auto qnli = read(data_file("glue/QNLI/dev.tsv.gz"), data::glue_task("QNLI"));
  EXPECT_TRUE(qnli[0].label == 0 || qnli[0].label == 1);
}

// The GLUE tasks not bundled, in their files' layouts (header names and column counts as
// download_glue_data.py writes them), found under a GLUE directory.
TEST(Glue, ReadsTheLayoutsOfTheTasksNotBundled) {
  TempDir dir;
  std::filesystem::create_directories(dir / "QQP");
  std::filesystem::create_directories(dir / "MNLI");
  std::filesystem::create_directories(dir / "RTE");
  write_file(dir / "QQP/train.tsv",
             "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
             "133273\t213221\t213222\tHow is the life of a math student?\tWhich level of "
             "prepration is enough?\t0\n"
             "402555\t536040\t536041\tHow do I control my horny emotions?\tHow do you control "
             "your horniness?\t1\n");
  const std::string mnli_train_header =
      "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
      "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n";
  write_file(dir / "MNLI/train.tsv", mnli_train_header +
                                         "0\t31193\t31193n\tgovernment\t( a )\t( b )\t(ROOT a)\t"
                                         "(ROOT b)\tConceptually cream skimming has two basic "
                                         "dimensions.\tProduct and geography are what make cream "
                                         "skimming work.\tneutral\tneutral\n");
  const std::string mnli_dev_header =
      "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
      "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\t"
      "label4\tlabel5\tgold_label\n";
  const std::string row_end = "\tneutral\tentailment\tneutral\tneutral\tneutral\tneutral\n";
  write_file(dir / "MNLI/dev_matched.tsv",
             mnli_dev_header +
                 "0\t63735\t63735n\tslate\t( a )\t( b )\t(ROOT a)\t(ROOT b)\t"
                 "The new rights are nice enough\tEveryone really likes the newest "
                 "benefits" +
                 row_end);
  write_file(dir / "MNLI/dev_mismatched.tsv",
             mnli_dev_header +
                 "0\t75290\t75290c\tletters\t( a )\t( b )\t(ROOT a)\t(ROOT "
                 "b)\tYour contribution helped make it possible.\tYour "
                 "contributions were of no help.\tcontradiction\tcontradiction\t"
                 "contradiction\tcontradiction\tcontradiction\tcontradiction\n");
  write_file(dir / "RTE/dev.tsv",
             "index\tsentence1\tsentence2\tlabel\n0\tDana Reeve died.\tChristopher Reeve had an "
             "accident.\tnot_entailment\n");
  auto qqp = read(data::glue_file(dir.path().string(), data::glue_task("qqp"), "train"),
                  data::glue_task("QQP"));
  ASSERT_EQ(qqp.size(), 2u);
  EXPECT_EQ(qqp[1].text_b, "How do you control your horniness?");
  EXPECT_EQ(qqp[1].label, 1);
  auto mnli_train = read(data::glue_file(dir.path().string(), data::glue_task("MNLI"), "train"),
                         data::glue_task("MNLI"));
  EXPECT_EQ(mnli_train[0].text_a, "Conceptually cream skimming has two basic dimensions.");
  EXPECT_EQ(mnli_train[0].label, 2);  // contradiction, entailment, neutral
  auto matched = data::glue_file(dir.path().string(), data::glue_task("MNLI"), "dev");
  EXPECT_EQ(std::filesystem::path(matched).filename(), "dev_matched.tsv");
  EXPECT_EQ(read(matched, data::glue_task("MNLI"))[0].label, 2);
  auto mismatched = data::glue_file(dir.path().string(), data::glue_task("mnli-mm"), "dev");
  EXPECT_EQ(std::filesystem::path(mismatched).filename(), "dev_mismatched.tsv");
  EXPECT_EQ(read(mismatched, data::glue_task("MNLI-MM"))[0].label, 0);
  auto rte = read(data::glue_file(dir.path().string(), data::glue_task("rte"), "dev"),
                  data::glue_task("RTE"));
  EXPECT_EQ(rte[0].label, 1);
  EXPECT_EQ(data::glue_tasks().size(), 10u);
  for (const auto& task : data::glue_tasks()) task.check(task.name);
}

TEST(Glue, RefusesMalformedRowsAndUnknownTasks) {
  TempDir dir;
  auto file = write_file(
      dir / "bad.tsv", "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tA.\tB.\n1\t3\tC.\n");
  expect_user_error([&] { read(file, data::glue_task("MRPC")); },
                    file + ":3: expected 5 tab-separated columns for MRPC, got 3");
  auto label = write_file(dir / "label.tsv", "sentence\tlabel\ngood\t2\n");
  expect_user_error([&] { read(label, data::glue_task("SST-2")); },
                    label + ":2: label \"2\" is not one of 0, 1");
  expect_user_error([] { data::glue_task("squad"); },
                    "unknown GLUE task squad (expected one of CoLA, SST-2, MRPC, STS-B, QQP, MNLI, "
                    "MNLI-MM, QNLI, RTE, WNLI)");
  expect_user_error([&] { data::glue_file(dir.path().string(), data::glue_task("QQP"), "train"); },
                    (dir / "QQP").string() + " has no train.tsv or train.tsv.gz");
}

// A user's CSV: columns by name or number, quoted fields with commas, quotes and line breaks,
// a regression label, and malformed rows stopping the read or left out and counted.
TEST(TextTask, ReadsAUsersCsvByItsColumns) {
  TempDir dir;
  auto csv = write_file(dir / "reviews.csv",
                        "id,title,body,stars\r\n"
                        "1,Good,\"Fast, cheap \"\"and\"\" fine\",pos\r\n"
                        "2,Bad,\"Broke\nafter a day\",neg\r\n"
                        "3,Odd,too many,fields,neg\r\n"
                        "4,Meh,Average,meh\r\n");
  data::TextTask task;
  task.name = "reviews";
  task.text_columns = {"title", "2"};
  task.label_column = "stars";
  task.labels = {"neg", "pos"};
  task.delimiter = ',';
  task.check("test");
  expect_user_error([&] { read(csv, task); },
                    csv + ":5: expected 4 comma-separated columns for reviews, got 5");
  auto rows = data::read_text_task(csv, task, /*skip_malformed=*/true);
  ASSERT_EQ(rows.examples.size(), 2u);
  EXPECT_EQ(rows.skipped, 2);
  EXPECT_EQ(rows.first_skipped, csv + ":5: expected 4 comma-separated columns for reviews, got 5");
  EXPECT_EQ(rows.examples[0].text_a, "Good");
  EXPECT_EQ(rows.examples[0].text_b, "Fast, cheap \"and\" fine");
  EXPECT_EQ(rows.examples[0].label, 1);
  EXPECT_EQ(rows.examples[1].text_b, "Broke\nafter a day");
  EXPECT_EQ(rows.examples[1].label, 0);

  // No header: columns by number; a score as the label.
  auto tsv = write_file(dir / "scores.tsv", "a cat\t0.5\na dog\t4\n");
  data::TextTask scored;
  scored.name = "scores";
  scored.text_columns = {"0"};
  scored.label_column = "1";
  scored.header = false;
  scored.metric = "pearson";
  auto examples = read(tsv, scored);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_DOUBLE_EQ(examples[1].label, 4.0);
  EXPECT_TRUE(examples[0].text_b.empty());
  task.label_column = "rating";
  expect_user_error([&] { read(csv, task); },
                    csv + ": no column \"rating\" (the header names id, title, body, stars)");
  auto open = write_file(dir / "open.csv", "t,l\n\"never closed,1\n");
  task.text_columns = {"t"};
  task.label_column = "l";
  expect_user_error([&] { read(open, task); }, open + ":2: a quoted field is never closed");
}

TEST(TextTask, RefusesSpecsThatDoNotFitAndRoundTripsThroughJson) {
  data::TextTask task;
  task.name = "t";
  task.text_columns = {"a", "b"};
  task.label_column = "y";
  task.labels = {"x", "z", "w"};
  task.metric = "f1";
  expect_user_error([&] { task.check("finetune"); },
                    "finetune: f1 needs exactly two labels, got 3");
  task.metric = "pearson";
  expect_user_error([&] { task.check("finetune"); },
                    "finetune: pearson scores a regression task; this one has labels");
  task.metric = "accuracy";
  task.labels = {"x", "x"};
  expect_user_error([&] { task.check("finetune"); }, "finetune: label \"x\" is given twice");
  task.labels = {"x", "z"};
  task.delimiter = ',';
  task.header = false;
  const auto back = data::TextTask::from_json(task.to_json(), "record");
  EXPECT_EQ(back.to_json(), task.to_json());
  EXPECT_EQ(back.delimiter, ',');
  EXPECT_TRUE(back.pair());
  expect_user_error(
      [] {
        data::TextTask::from_json({{"name", "t"}}, "slimformer.json");
      },
      "slimformer.json: the task record has no text_columns");
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
