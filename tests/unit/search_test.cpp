// The FFN search (EfficientBERT): the expression language, its block, weight inheritance, the
// samplers and the resumable search log.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "slimformer/methods/search/sampler.h"
#include "slimformer/methods/search/search_log.h"
#include "slimformer/methods/search/supernet.h"
#include "slimformer/models/encoder.h"
#include "slimformer/nn/block_registry.h"
#include "slimformer/nn/expression_feed_forward.h"
#include "slimformer/nn/feed_forward.h"
#include "slimformer/train/checkpoint.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

using methods::Architecture;
using nn::FfnExpression;
using testing::expect_user_error;

std::string rule_of(const std::string& text) {
  try {
    return FfnExpression::parse(text).violation();
  } catch (const std::invalid_argument& e) {
    return std::string("parse: ") + e.what();
  }
}

TEST(FfnExpression, PaperExpressionsPrintAsWritten) {
  for (const char* text : {"linear2_2(gelu(linear2_2(max(x,tanh(x)),wb1)),wb2)",
                           "linear1_2(relu(mul(linear1_2(x,wb1),x)),wb2)",
                           "tanh(linear4_2(gelu(linear4_2(x,wb1)),wb2))",
                           "leaky_relu(linear2_3(gelu(linear2_3(x,wb1)),wb2))"}) {
    const auto e = FfnExpression::parse(text);
    EXPECT_EQ(e.to_string(), text);
    EXPECT_EQ(e.violation(), "") << text;
  }
  const auto spaced = FfnExpression::parse(" linear2_2( gelu( linear2_2(x , wb1)), wb2) ");
  EXPECT_EQ(spaced, FfnExpression::standard(2, 2));
  EXPECT_EQ(spaced.depth(), 2);
  EXPECT_EQ(spaced.ratio(), 2);
}

TEST(FfnExpression, RandomValidExpressionsRoundTrip) {
  std::mt19937_64 rng(7);
  int distinct_from_standard = 0;
  for (int i = 0; i < 300; ++i) {
    const auto e = methods::random_expression(1 + i % 4, 1 + (i / 4) % 4, rng);
    ASSERT_EQ(e.violation(), "") << e.to_string();
    const auto back = FfnExpression::parse(e.to_string());
    EXPECT_EQ(back, e);
    EXPECT_EQ(back.to_string(), e.to_string());
    distinct_from_standard += !(e == FfnExpression::standard(e.depth(), e.ratio()));
  }
  EXPECT_GT(distinct_from_standard, 250);  // mutation really explores
}

TEST(FfnExpression, InvalidExpressionsNameTheRule) {
  EXPECT_EQ(rule_of("linear1_1(gelu(tanh(linear1_1(x,wb1))),wb2)"),
            "an activation directly inside another (gelu(tanh(...)))");
  EXPECT_EQ(rule_of("linear1_1(tanh(linear1_1(linear1_1(x,wb1),wb1)),wb2)"),
            "wb1 and wb2 must appear once each (wb1 2 times, wb2 1 times)");
  EXPECT_EQ(rule_of("linear1_1(linear1_1(x,wb1),wb2)"), "a linear directly inside another");
  EXPECT_EQ(rule_of("linear1_1(gelu(add(linear1_1(x,wb1),linear1_1(x,wb1))),wb2)"),
            "wb1 and wb2 must appear once each (wb1 2 times, wb2 1 times)");
  EXPECT_EQ(rule_of("linear1_1(gelu(linear1_1(x,wb2)),wb1)"), "wb1 must come before wb2");
  EXPECT_EQ(rule_of("linear1_1(max(linear1_1(x,wb1),linear1_1(x,wb1)),wb2)"),
            "wb1 and wb2 must appear once each (wb1 2 times, wb2 1 times)");
  EXPECT_EQ(rule_of("linear1_1(gelu(mul(tanh(x),tanh(x))),wb2)"),
            "wb1 and wb2 must appear once each (wb1 0 times, wb2 1 times)");
  EXPECT_EQ(rule_of("linear1_1(gelu(linear1_1(mul(tanh(x),tanh(x)),wb1)),wb2)"),
            "mul of two identical operands");
  EXPECT_EQ(rule_of("linear1_1(tanh(linear1_1(relu(elu(sigmoid(x))),wb1)),wb2)"),
            "an activation directly inside another (relu(elu(...)))");
  EXPECT_EQ(rule_of("linear1_1(tanh(linear1_1(add(x,max(x,mul(x,add(x,max(x,tanh(x)))))),wb1)),wb2)"),
            "height 9 is outside [3, 7]");
  EXPECT_EQ(rule_of("add(linear1_2(x,wb1),linear1_2(tanh(x),wb2))"),
            "wb2 reads width k but gets width H");
  EXPECT_EQ(rule_of("add(linear1_1(x,wb1),linear1_1(tanh(x),wb2))"), "");  // k = H at ratio 1
  EXPECT_EQ(rule_of("linear1_1(gelu(linear1_2(x,wb1)),wb2)"),
            "parse: expression 'linear1_1(gelu(linear1_2(x,wb1)),wb2)', character 16: both "
            "linears must have the same depth and ratio (linear1_1 before)");
  EXPECT_EQ(rule_of("linear1_5(gelu(linear1_5(x,wb1)),wb2)"),
            "parse: expression 'linear1_5(gelu(linear1_5(x,wb1)),wb2)', character 1: unknown "
            "name 'linear1_5' (expected x, wb1, wb2, linear<d>_<r> with d and r in 1-4, an "
            "activation or add, mul, max)");
  EXPECT_EQ(rule_of("linear1_1(gelu(wb1),wb2)"),
            "parse: expression 'linear1_1(gelu(wb1),wb2)', character 20: wb1 may only be a "
            "linear's second argument");
  EXPECT_EQ(rule_of("linear1_1(gelu(x,x),wb2)"),
            "parse: expression 'linear1_1(gelu(x,x),wb2)', character 17: gelu takes 1 argument");
}

TEST(ExpressionFeedForward, ParameterCountMatchesItsFormula) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 40; ++i) {
    const auto e = methods::random_expression(1 + i % 4, 1 + (i / 4) % 4, rng);
    nn::ExpressionFeedForwardOptions o;
    o.embed_dim = 24;
    o.expression = e;
    nn::ExpressionFeedForward block(o);
    int64_t count = 0;
    for (const auto& p : block->parameters()) count += p.numel();
    EXPECT_EQ(count, nn::expression_parameters(e, 24)) << e.to_string();
  }
  // linear2_2 at H = 24: 2 x (2 x 24 x 12 + 12 + 24) + 1 norm x 48.
  EXPECT_EQ(nn::expression_parameters(FfnExpression::standard(2, 2), 24), 2 * (576 + 36) + 48);
}

TEST(ExpressionFeedForward, StandardExpressionIsTheStandardFfn) {
  torch::manual_seed(0);
  nn::FeedForward ffn(nn::FeedForwardOptions{16, 16, "gelu", 0.0, false, true});
  nn::ExpressionFeedForwardOptions o;
  o.embed_dim = 16;
  nn::ExpressionFeedForward block(o);
  methods::inherit_ffn_weights(*block, *ffn);
  const auto x = torch::randn({2, 5, 16});
  EXPECT_TRUE(torch::allclose(block->forward(x, {}), ffn->forward(x, {}), 1e-6, 1e-6));
  // A narrower block inherits the leading slices: ratio 2 equals an FFN of inner width 8 with
  // the first 8 units.
  o.expression = FfnExpression::standard(1, 2);
  nn::ExpressionFeedForward narrow(o);
  methods::inherit_ffn_weights(*narrow, *ffn);
  nn::FeedForward half(nn::FeedForwardOptions{16, 8, "gelu", 0.0, false, true});
  {
    torch::NoGradGuard g;
    half->fc1->weight.copy_(ffn->fc1->weight.narrow(0, 0, 8));
    half->fc1->bias.copy_(ffn->fc1->bias.narrow(0, 0, 8));
    half->fc2->weight.copy_(ffn->fc2->weight.narrow(1, 0, 8));
    half->fc2->bias.copy_(ffn->fc2->bias);
  }
  EXPECT_TRUE(torch::allclose(narrow->forward(x, {}), half->forward(x, {}), 1e-6, 1e-6));
}

TEST(ExpressionFeedForward, ActiveSizeEqualsTheInheritedSmallerBlock) {
  torch::manual_seed(1);
  nn::ExpressionFeedForwardOptions o;
  o.embed_dim = 16;
  o.expression = FfnExpression::parse("linear4_1(relu(mul(linear4_1(x,wb1),x)),wb2)");
  nn::ExpressionFeedForward super(o);
  o.expression = o.expression.with_size(2, 2);
  nn::ExpressionFeedForward small(o);
  methods::inherit_ffn_weights(*small, *super);
  super->set_active(2, 8);
  const auto x = torch::randn({3, 4, 16});
  EXPECT_TRUE(torch::allclose(super->forward(x, {}), small->forward(x, {}), 1e-5, 1e-6));
  super->set_active(0, 0);
  EXPECT_FALSE(torch::allclose(super->forward(x, {}), small->forward(x, {}), 1e-3, 1e-3));
}

TEST(ExpressionFeedForward, RegistryRefusesABadExpressionNamingTheRule) {
  nn::BlockEnv env;
  env.embed_dim = 16;
  env.where = "blocks.encoder.layers.0.ffn";
  expect_user_error(
      [&] {
        nn::build_block({"ffn_expression", {{"expression", "linear1_1(linear1_1(x,wb1),wb2)"}}},
                        nn::BlockRole::kFeedForward, env);
      },
      "blocks.encoder.layers.0.ffn.expression must follow the search space's rules (a linear "
      "directly inside another), got \"linear1_1(linear1_1(x,wb1),wb2)\"");
}

TEST(Search, SearchedModelSavesAndReloadsExactly) {
  testing::TempDir dir;
  auto model = train::load_model(testing::source_dir() / "models/encoder-base", torch::kCPU);
  const auto a = Architecture::parse(
      "linear2_2(gelu(linear2_2(max(x,tanh(x)),wb1)),wb2); "
      "linear1_2(relu(mul(linear1_2(x,wb1),x)),wb2); "
      "linear1_1(gelu(linear1_1(x,wb1)),wb2); sigmoid(linear1_4(relu(linear1_4(x,wb1)),wb2))");
  methods::apply_architecture(*model.model, a, *model.model);
  EXPECT_EQ(methods::architecture_of(*model.model), a);
  train::save_model(dir / "m", model, nlohmann::json::object(), torch::kFloat32);
  auto back = train::load_model(dir / "m", torch::kCPU);
  EXPECT_EQ(methods::architecture_of(*back.model), a);
  model.model->module().eval();
  back.model->module().eval();
  const auto tokens = torch::randint(5, 8000, {2, 12});
  auto* e1 = model.as<models::EncoderModelImpl>();
  auto* e2 = back.as<models::EncoderModelImpl>();
  EXPECT_TRUE(torch::equal(e1->encode(tokens), e2->encode(tokens)));
}

methods::SearchSpace small_space() {
  methods::SearchSpace space;
  space.layers = 3;
  space.model_width = 32;
  const int64_t baseline = 3 * nn::expression_parameters(FfnExpression::standard(1, 1), 32);
  space.min_parameters = baseline * 9 / 10;
  space.max_parameters = baseline * 105 / 100;
  return space;
}

// A made-up score that rewards mul and a wide first layer.
double toy_score(const Architecture& a) {
  const std::string s = a.to_string();
  double score = a.layers[0].ratio() == 1 ? 1.0 : 0.0;
  for (size_t at = s.find("mul"); at != std::string::npos; at = s.find("mul", at + 1)) score += 0.5;
  return score;
}

TEST(Search, SamplersAreDeterministicUnderASeedAndStayInTheSpace) {
  const auto space = small_space();
  for (const char* kind : {"random", "lanas"}) {
    methods::SamplerOptions o;
    o.kind = kind;
    o.seed = 5;
    o.initial_samples = 10;
    auto first = methods::make_sampler(o), second = methods::make_sampler(o);
    std::vector<methods::EvaluatedSample> history;
    std::set<std::string> taken;
    for (int i = 0; i < 24; ++i) {
      const auto a = first->propose(space, history, taken, i);
      EXPECT_EQ(a, second->propose(space, history, taken, i)) << kind;
      EXPECT_EQ(space.violation(a), "") << a.to_string();
      EXPECT_FALSE(taken.count(a.to_string()));
      taken.insert(a.to_string());
      history.push_back({a, toy_score(a)});
    }
    o.seed = 6;
    EXPECT_NE(methods::make_sampler(o)->propose(space, {}, {}, 0), history[0].architecture);
  }
  expect_user_error([] { methods::make_sampler({"grid"}); }, "--sampler grid is not lanas or random");
}

TEST(Search, LinearClassifierSeparatesSeparableData) {
  methods::LinearClassifier c;
  std::vector<std::vector<double>> x;
  std::vector<int> y;
  for (int i = 0; i < 40; ++i) {
    x.push_back({double(i), double(i % 3)});
    y.push_back(i >= 20);
  }
  c.fit(x, y);
  int right = 0;
  for (int i = 0; i < 40; ++i) right += c.positive(x[i]) == (y[i] == 1);
  EXPECT_GE(right, 38);
}

TEST(Search, LogResumesAnInterruptedSearchWithoutLosingCandidates) {
  testing::TempDir dir;
  const auto space = small_space();
  auto sampler = methods::make_sampler({"random", 3});
  methods::SearchLog log(dir / "log.jsonl");
  auto propose = [&](const auto& history, const auto& taken, int64_t index) {
    return std::make_pair(sampler->propose(space, history, taken, index), std::string("random"));
  };
  for (int i = 0; i < 2; ++i) {
    auto c = log.claim(1, 4, propose);
    ASSERT_TRUE(c);
    log.record(*c, {{"score", toy_score(c->architecture)}});
  }
  // A process that claimed candidate 2 and died, and a result line cut short by the crash.
  auto c2 = log.claim(1, 4, propose);
  {
    std::ifstream in(dir / "log.jsonl");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const std::string ours = "\"pid\":" + std::to_string(getpid());
    text.replace(text.rfind(ours), ours.size(), "\"pid\":999999999");
    std::ofstream out(dir / "log.jsonl");
    out << text << "{\"event\": \"result\", \"stage\": 1, \"ind";
  }
  auto again = log.claim(1, 4, propose);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->reclaimed);
  EXPECT_EQ(again->index, 2);
  EXPECT_EQ(again->architecture, c2->architecture);
  log.record(*again, {{"score", 0.5}});
  auto c3 = log.claim(1, 4, propose);
  ASSERT_TRUE(c3);
  EXPECT_EQ(c3->index, 3);
  log.record(*c3, {{"score", 0.1}});
  EXPECT_FALSE(log.claim(1, 4, propose));
  const auto results = log.results(1);
  ASSERT_EQ(results.size(), 4u);
  std::set<std::string> distinct;
  for (const auto& r : results) distinct.insert(r["architecture"].get<std::string>());
  EXPECT_EQ(distinct.size(), 4u);
  // Other stages are separate.
  auto s2 = log.claim(2, 1, propose);
  ASSERT_TRUE(s2);
  EXPECT_EQ(s2->index, 0);
}

TEST(Search, SeveralWorkersShareAStageWithoutSharingACandidate) {
  testing::TempDir dir;
  const auto space = small_space();
  // Each worker opens the log on its own, as separate processes do; flock serializes them.
  auto work = [&](uint64_t seed) {
    auto sampler = methods::make_sampler({"random", 9});
    methods::SearchLog log(dir / "log.jsonl");
    auto propose = [&](const auto& history, const auto& taken, int64_t index) {
      return std::make_pair(sampler->propose(space, history, taken, index), std::string("random"));
    };
    while (auto c = log.claim(1, 12, propose)) log.record(*c, {{"score", double(seed)}});
  };
  std::thread a(work, 1), b(work, 2);
  a.join();
  b.join();
  const auto results = methods::SearchLog(dir / "log.jsonl").results(1);
  ASSERT_EQ(results.size(), 12u);
  std::set<int64_t> indices;
  std::set<std::string> architectures;
  for (const auto& r : results) {
    indices.insert(r["index"].get<int64_t>());
    architectures.insert(r["architecture"].get<std::string>());
  }
  EXPECT_EQ(indices.size(), 12u);
  EXPECT_EQ(architectures.size(), 12u);
}

TEST(Search, LogRefusesAMalformedLineInTheMiddle) {
  testing::TempDir dir;
  const std::string good =
      R"j({"event": "result", "stage": 1, "index": 0, "architecture": "linear1_1(gelu(linear1_1(x,wb1)),wb2)"})j";
  // A line edited by hand is refused where it is read, naming the line and what is wrong.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "log.jsonl:2: not a JSON line"},
      {R"j({"event": "result", "stage": 1, "index": 1})j",
       "log.jsonl:2: a log line needs event, stage, index and architecture"},
      {R"j({"event": "result", "stage": 1, "index": 1, "architecture": "linear1_1(gelu(linear1_1(x,wb1)),wb2)", "score": "high"})j",
       "log.jsonl:2: score must be a number"},
      {R"j({"event": "claim", "stage": 1, "index": 1, "architecture": "linear9_1(x)"})j",
       "log.jsonl:2: expression 'linear9_1(x)'"}};
  for (const auto& [bad, expected] : cases) {
    testing::write_file(dir / "log.jsonl", good + "\n" + bad + "\n{}\n");
    try {
      methods::SearchLog(dir / "log.jsonl").results();
      ADD_FAILURE() << "expected an error for " << bad;
    } catch (const core::UserError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace slimformer
