#include "slimformer/eval/bleu.h"

#include <gtest/gtest.h>

#include "slimformer/eval/chrf.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

// The example of sacreBLEU's README: two reference streams.
TEST(Bleu, MatchesSacrebleuReadmeExample) {
  std::vector<std::string> sys = {"The dog bit the man.", "It wasn't surprising.",
                                  "The man had just bitten him."};
  std::vector<std::vector<std::string>> refs = {
      {"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
      {"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."}};
  auto bleu = eval::corpus_bleu(sys, refs);
  EXPECT_EQ(
      bleu.format(),
      "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)");
  EXPECT_EQ(bleu.signature(), "nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.0.0");
}

// sacreBLEU's corpus score 39.13 for this pair of sentences (as pinned in MT-Telescope's tests).
TEST(Bleu, MatchesSacrebleuOnCaseAndPunctuation) {
  auto bleu =
      eval::corpus_bleu({"Hi world.", "This is a Test."}, {{"Hello world.", "This is a test."}});
  EXPECT_NEAR(bleu.score, 39.13, 0.005);
}

TEST(Bleu, PerfectMatchIs100AndNoMatchIs0) {
  EXPECT_DOUBLE_EQ(eval::corpus_bleu({"a b c d e"}, {{"a b c d e"}}).score, 100.0);
  EXPECT_DOUBLE_EQ(eval::corpus_bleu({"x y z w v"}, {{"a b c d e"}}).score, 0.0);
  EXPECT_DOUBLE_EQ(eval::corpus_bleu({""}, {{"a b c d e"}}).score, 0.0);
}

TEST(Bleu, ExponentialSmoothingWhenHigherOrdersMiss) {
  // 4 unigrams match, 3 bigrams match, no trigram or 4-gram: precisions 100, 100, 50/2, 100/(4*1).
  auto bleu = eval::corpus_bleu({"a b c d"}, {{"a b c d"}});
  EXPECT_DOUBLE_EQ(bleu.score, 100.0);
  auto partial = eval::corpus_bleu({"a b x c d"}, {{"a b y c d"}});
  // unigrams 4/5, bigrams 2/4, trigrams 0/3 -> 100/(2*3), 4-grams 0/2 -> 100/(4*2)
  double expected =
      std::exp((std::log(80.0) + std::log(50.0) + std::log(100.0 / 6) + std::log(100.0 / 8)) / 4);
  EXPECT_NEAR(partial.score, expected, 1e-9);
}

TEST(Bleu, Tokenize13a) {
  EXPECT_EQ(eval::tokenize_13a("Hello, world."), "Hello , world .");
  EXPECT_EQ(eval::tokenize_13a("It costs $3.50, or 3,000 yen."),
            "It costs $ 3.50 , or 3,000 yen .");
  // A dash is split off only after a digit: "-" is outside the first rule's character ranges.
  EXPECT_EQ(eval::tokenize_13a("well-known 1990-2000"), "well-known 1990 - 2000");
  EXPECT_EQ(eval::tokenize_13a("a &amp; b &quot;c&quot;"), "a & b \" c \"");
  EXPECT_EQ(eval::tokenize_13a("Straße (groß)!"), "Straße ( groß ) !");
  // Unicode spaces separate words, as Python's str.split() has it.
  EXPECT_EQ(eval::tokenize_13a("zwei\u00a0Hunde\u2009laufen"), "zwei Hunde laufen");
}

TEST(Bleu, RefusesMisalignedReferences) {
  testing::expect_user_error(
      [] {
        eval::corpus_bleu({"a", "b"}, {{"a"}});
      },
      "BLEU: 2 hypotheses but a reference stream has 1 lines");
}

}  // namespace
}  // namespace slimformer

namespace slimformer {
namespace {

// The values of the chrF metric card (computed there with sacreBLEU).
TEST(Chrf, MatchesSacrebleuDocumentedValues) {
  auto one =
      eval::corpus_chrf({"The relationship between Obama and Netanyahu is not exactly friendly."},
                        {"The ties between Obama and Netanyahu are not particularly friendly."});
  EXPECT_NEAR(one.score, 61.576379378113785, 1e-9);
  auto two =
      eval::corpus_chrf({"The relationship between cats and dogs is not exactly friendly.",
                         "a good bookshop is just a genteel black hole that knows how to read."},
                        {"The relationship between dogs and cats is not exactly friendly.",
                         "A good bookshop is just a genteel Black Hole that knows how to read."});
  EXPECT_NEAR(two.score, 84.64214891738334, 1e-9);
  EXPECT_DOUBLE_EQ(eval::corpus_chrf({"Straße"}, {"Straße"}).score, 100.0);
  EXPECT_DOUBLE_EQ(eval::corpus_chrf({"zwei\u00a0Hunde"}, {"zwei Hunde"}).score, 100.0);
}

}  // namespace
}  // namespace slimformer
