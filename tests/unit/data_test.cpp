#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <set>

#include "slimformer/data/parallel_corpus.h"
#include "slimformer/data/text_file.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

using testing::expect_user_error;

TEST(TextFile, ReadsPlainAndGzippedBundledMulti30k) {
  auto en = data::read_lines(testing::data_file("multi30k/train.en.gz"));
  EXPECT_EQ(en.size(), 29000u);
  EXPECT_EQ(en[0], "Two young, White males are outside near many bushes.");
  testing::TempDir dir;
  auto plain = testing::write_file(dir / "p.txt", "one\r\ntwo\nthree");
  EXPECT_EQ(data::read_lines(plain), (std::vector<std::string>{"one", "two", "three"}));
}

TEST(TextFile, RefusesMissingAndCorruptGzip) {
  testing::TempDir dir;
  expect_user_error([&] { data::read_lines((dir / "none.gz").string()); },
                    (dir / "none.gz").string() + ": file not found");
  // A gzip stream cut in the middle.
  std::string full = (dir / "full.gz").string();
  gzFile f = gzopen(full.c_str(), "wb");
  std::string text(100000, 'a');
  gzwrite(f, text.data(), text.size());
  gzclose(f);
  std::string bytes = [&] {
    std::ifstream in(full, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  auto cut = testing::write_file(dir / "cut.gz", bytes.substr(0, bytes.size() / 2));
  try {
    data::read_lines(cut);
    FAIL() << "truncated gzip was accepted";
  } catch (const core::UserError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(cut + ": corrupt or truncated gzip data", 0), 0u)
        << e.what();
  }
}

TEST(ParallelCorpus, RefusesMismatchedLineCounts) {
  testing::TempDir dir;
  auto src = testing::write_file(dir / "a.en", "one\ntwo\nthree\n");
  auto tgt = testing::write_file(dir / "a.de", "eins\nzwei\n");
  expect_user_error(
      [&] { data::read_parallel(src, tgt); },
      src + " has 3 lines but " + tgt + " has 2: parallel files must align line by line");
}

TEST(Batching, RespectsTokenBudgetAndCoversEveryExampleOnce) {
  std::vector<int64_t> lengths;
  for (int i = 0; i < 500; ++i) lengths.push_back(3 + (i * 37) % 40);
  auto batches = data::batch_by_tokens(lengths, 200, true, 7);
  std::multiset<int64_t> seen;
  for (const auto& batch : batches) {
    int64_t longest = 0;
    for (int64_t i : batch) longest = std::max(longest, lengths[i]), seen.insert(i);
    EXPECT_LE(longest * int64_t(batch.size()), 200);
  }
  EXPECT_EQ(seen.size(), 500u);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 500u);
  // The same seed gives the same batches; another seed another order.
  EXPECT_EQ(batches, data::batch_by_tokens(lengths, 200, true, 7));
  EXPECT_NE(batches, data::batch_by_tokens(lengths, 200, true, 8));
}

TEST(Batching, TeacherForcingShiftsTargets) {
  data::TokenizedPairs pairs;
  pairs.source = {{5, 6, 3}, {7, 3}};
  pairs.target = {{8, 3}, {9, 10, 11, 3}};
  auto batch = data::make_translation_batch(pairs, {0, 1});
  EXPECT_TRUE(torch::equal(batch.src, torch::tensor({5, 6, 3, 7, 3, 0}).view({2, 3})));
  EXPECT_TRUE(torch::equal(batch.tgt_in, torch::tensor({2, 8, 3, 0, 2, 9, 10, 11}).view({2, 4})));
  EXPECT_TRUE(torch::equal(batch.tgt_out, torch::tensor({8, 3, 0, 0, 9, 10, 11, 3}).view({2, 4})));
  EXPECT_EQ(batch.target_tokens, 6);
}

TEST(Vocab, EncodesAndDecodesRoundTrip) {
  const auto& vocab = testing::small_vocab();
  EXPECT_EQ(vocab.size(), 400);
  const std::string text = "A man in an orange hat starring at something.";
  auto ids = vocab.encode(text);
  EXPECT_GT(ids.size(), 3u);
  ids.push_back(data::Vocab::kEos);
  ids.push_back(17);  // after </s>: ignored
  EXPECT_EQ(vocab.decode(ids), text);
}

TEST(Vocab, RefusesFilesThatAreNotSentencepieceModels) {
  testing::TempDir dir;
  auto bogus = testing::write_file(dir / "bogus.model", "not a model");
  try {
    data::Vocab::load(bogus);
    FAIL();
  } catch (const core::UserError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(bogus + ": not a sentencepiece model", 0), 0u)
        << e.what();
  }
}

}  // namespace
}  // namespace slimformer
