#include "slimformer/models/seq2seq.h"

#include <gtest/gtest.h>

#include "slimformer/eval/decoding.h"
#include "slimformer/nn/feed_forward.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

using models::Seq2SeqTransformer;

torch::Tensor random_tokens(int64_t batch, int64_t length, int64_t vocab) {
  return torch::randint(4, vocab, {batch, length}, torch::kInt64);
}

class Seq2SeqTest : public ::testing::TestWithParam<bool> {};  // parameter: pre-norm

TEST_P(Seq2SeqTest, IncrementalDecodingEqualsFullForward) {
  auto config = testing::tiny_config(50);
  config.normalize_before = GetParam();
  Seq2SeqTransformer model(config);
  model->eval();
  torch::NoGradGuard no_grad;
  auto src = random_tokens(3, 7, 50);
  src[1][5] = 0, src[1][6] = 0;  // padding in one row
  auto tgt = random_tokens(3, 6, 50);
  auto encoded = model->encode(src);
  auto full = model->decode(tgt, encoded);
  auto cache = model->make_state();
  std::vector<torch::Tensor> steps;
  for (int64_t t = 0; t < tgt.size(1); ++t)
    steps.push_back(model->decode(tgt.narrow(1, t, 1), encoded, &cache));
  EXPECT_TRUE(torch::allclose(torch::cat(steps, 1), full, 1e-5, 1e-5));
  // A prefix given at once, then single steps, agrees too.
  auto cache2 = model->make_state();
  auto first = model->decode(tgt.narrow(1, 0, 4), encoded, &cache2);
  auto rest = model->decode(tgt.narrow(1, 4, 2), encoded, &cache2);
  EXPECT_TRUE(torch::allclose(torch::cat({first, rest}, 1), full, 1e-5, 1e-5));
}

TEST_P(Seq2SeqTest, PaddingDoesNotChangeOtherTokens) {
  auto config = testing::tiny_config(50);
  config.normalize_before = GetParam();
  Seq2SeqTransformer model(config);
  model->eval();
  torch::NoGradGuard no_grad;
  auto src = random_tokens(1, 5, 50);
  auto padded = torch::cat({src, torch::zeros({1, 3}, torch::kInt64)}, 1);
  auto tgt = random_tokens(1, 4, 50);
  EXPECT_TRUE(torch::allclose(model->forward(src, tgt), model->forward(padded, tgt), 1e-5, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(Norms, Seq2SeqTest, ::testing::Values(false, true));

TEST(Seq2Seq, LearnedPositionsSeparateEmbeddingsAndUntiedOutput) {
  auto config = testing::tiny_config(50);
  config.position_embedding = "learned";
  config.share_embeddings = false;
  config.tie_word_embeddings = false;
  config.activation_function = "gelu";
  Seq2SeqTransformer model(config);
  auto state = model->state();
  for (const char* key : {"encoder_embed_positions.weight", "decoder_embed_positions.weight",
                          "decoder_embed_tokens.weight", "lm_head.weight"})
    EXPECT_TRUE(state.count(key)) << key;
  Seq2SeqTransformer shared(testing::tiny_config(50));
  EXPECT_FALSE(shared->state().count("decoder_embed_tokens.weight"));
  EXPECT_FALSE(shared->state().count("lm_head.weight"));
  model->eval();
  torch::NoGradGuard no_grad;
  auto src = random_tokens(2, 5, 50), tgt = random_tokens(2, 4, 50);
  auto encoded = model->encode(src);
  auto cache = model->make_state();
  std::vector<torch::Tensor> steps;
  for (int64_t t = 0; t < 4; ++t)
    steps.push_back(model->decode(tgt.narrow(1, t, 1), encoded, &cache));
  EXPECT_TRUE(torch::allclose(torch::cat(steps, 1), model->decode(tgt, encoded), 1e-5, 1e-5));
}

TEST(ModelTree, EnumeratesSublayersInOrderWithStablePaths) {
  Seq2SeqTransformer model(testing::tiny_config(50));
  std::vector<std::string> paths;
  for (auto& s : model->sublayers()) paths.push_back(s->path());
  std::vector<std::string> expected = {"encoder.layers.0.self_attn",  "encoder.layers.0.ffn",
                                       "encoder.layers.1.self_attn",  "encoder.layers.1.ffn",
                                       "decoder.layers.0.self_attn",  "decoder.layers.0.cross_attn",
                                       "decoder.layers.0.ffn",        "decoder.layers.1.self_attn",
                                       "decoder.layers.1.cross_attn", "decoder.layers.1.ffn"};
  EXPECT_EQ(paths, expected);
  // Paths are the checkpoint key prefixes.
  auto state = model->state();
  for (const auto& path : paths)
    for (const auto& [key, tensor] : model->sublayer(path)->state())
      EXPECT_TRUE(state.count(key)) << key;
  EXPECT_TRUE(state.count("decoder.layers.1.cross_attn.block.q_proj.weight"));
  testing::expect_user_error(
      [&] { model->sublayer("decoder.layers.9.ffn"); },
      "no sublayer decoder.layers.9.ffn in this model (paths: encoder.layers.0.self_attn, "
      "encoder.layers.0.ffn, ..., decoder.layers.1.ffn)");
}

TEST(ModelTree, SwitchingOffASublayerMakesItTheIdentity) {
  Seq2SeqTransformer model(testing::tiny_config(50));
  model->eval();
  torch::NoGradGuard no_grad;
  auto sublayer = model->sublayer("decoder.layers.0.ffn");
  auto x = torch::randn({2, 3, 32});
  nn::BlockContext context;
  EXPECT_FALSE(torch::allclose(sublayer->forward(x, context), x));
  sublayer->set_enabled(false);
  EXPECT_TRUE(torch::equal(sublayer->forward(x, context), x));
}

TEST(ModelTree, SwitchedOffEqualsRemoved) {
  auto config = testing::tiny_config(50);
  Seq2SeqTransformer a(config), b(config);
  a->eval(), b->eval();
  torch::NoGradGuard no_grad;
  auto src = random_tokens(2, 5, 50), tgt = random_tokens(2, 4, 50);
  a->sublayer("encoder.layers.1.self_attn")->set_enabled(false);
  a->sublayer("decoder.layers.0.cross_attn")->set_enabled(false);
  const int64_t before = b->num_parameters();
  b->remove("encoder.layers.1.self_attn");
  b->remove("decoder.layers.0.cross_attn");
  EXPECT_LT(b->num_parameters(), before);
  EXPECT_EQ(b->config().removed_sublayers.size(), 2u);
  EXPECT_TRUE(torch::allclose(a->forward(src, tgt), b->forward(src, tgt), 1e-6, 1e-6));
  // The removed model reloads from its own config and state with identical outputs.
  Seq2SeqTransformer c(b->config());
  c->eval();
  c->load_state(b->state(), "test");
  EXPECT_TRUE(torch::equal(b->forward(src, tgt), c->forward(src, tgt)));
}

TEST(ModelTree, InterpolateReachesBothEndpoints) {
  auto config = testing::tiny_config(50);
  Seq2SeqTransformer model(config);
  auto init = model->state();
  for (auto& [k, v] : init) v = v.clone();
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.add_(0.5);
  }
  auto final = model->state();
  for (auto& [k, v] : final) v = v.clone();
  auto sublayer = model->sublayer("decoder.layers.1.self_attn");
  sublayer->interpolate(init, final, 0.0);
  for (const auto& [k, v] : sublayer->state()) EXPECT_TRUE(torch::allclose(v, init.at(k))) << k;
  sublayer->interpolate(init, final, 1.0);
  for (const auto& [k, v] : sublayer->state()) EXPECT_TRUE(torch::allclose(v, final.at(k))) << k;
  sublayer->interpolate(init, final, 0.25);
  for (const auto& [k, v] : sublayer->state())
    EXPECT_TRUE(torch::allclose(v, init.at(k) + 0.125)) << k;
  // Other sublayers are untouched.
  for (const auto& [k, v] : model->sublayer("decoder.layers.0.ffn")->state())
    EXPECT_TRUE(torch::equal(v, final.at(k)));
}

TEST(ModelTree, ReplaceSwapsTheBlock) {
  Seq2SeqTransformer model(testing::tiny_config(50));
  auto sublayer = model->sublayer("encoder.layers.0.ffn");
  sublayer->replace(
      std::make_shared<nn::FeedForwardImpl>(nn::FeedForwardOptions{32, 16, "gelu", 0.0}));
  EXPECT_EQ(model->state().at("encoder.layers.0.ffn.block.fc1.weight").size(0), 16);
}

TEST(ModelTree, SeededInitializationIsReproducible) {
  auto config = testing::tiny_config(50);
  Seq2SeqTransformer a(config), b(config);
  for (const auto& [k, v] : a->state()) EXPECT_TRUE(torch::equal(v, b->state().at(k))) << k;
  config.init_seed = 2;
  Seq2SeqTransformer c(config);
  EXPECT_FALSE(torch::equal(a->state().at("encoder.layers.0.ffn.block.fc1.weight"),
                            c->state().at("encoder.layers.0.ffn.block.fc1.weight")));
}

TEST(ModelTree, LoadStateRefusesMissingAndMisshapenTensors) {
  Seq2SeqTransformer model(testing::tiny_config(50));
  auto state = model->state();
  auto missing = state;
  missing.erase("decoder.layers.0.ffn.block.fc2.bias");
  testing::expect_user_error([&] { model->load_state(missing, "m.safetensors"); },
                             "m.safetensors: missing tensor decoder.layers.0.ffn.block.fc2.bias");
  auto misshapen = state;
  misshapen["decoder.layers.0.ffn.block.fc2.bias"] = torch::zeros({3});
  testing::expect_user_error([&] { model->load_state(misshapen, "m.safetensors"); },
                             "m.safetensors: tensor decoder.layers.0.ffn.block.fc2.bias has shape "
                             "[3] but the model expects [32]");
  auto extra = state;
  extra["lm_head.weight"] = torch::zeros({1});
  testing::expect_user_error([&] { model->load_state(extra, "m.safetensors"); },
                             "m.safetensors: unexpected tensor lm_head.weight (not in this model)");
}

TEST(Decoding, BeamOfOneEqualsGreedyAndBeamsScoreAtLeastAsWell) {
  Seq2SeqTransformer model(testing::tiny_config(50));
  model->eval();
  auto src = random_tokens(3, 6, 50);
  auto greedy = eval::greedy_search(*model, src, 12);
  EXPECT_EQ(eval::beam_search(*model, src, 12, 1, 1.0), greedy);
  auto beam = eval::beam_search(*model, src, 12, 4, 0.0);
  // With no length penalty the beam's hypothesis has a log-probability >= greedy's.
  auto score = [&](int64_t row, const std::vector<int64_t>& tokens) {
    torch::NoGradGuard no_grad;
    std::vector<int64_t> in = {2};
    in.insert(in.end(), tokens.begin(), tokens.end());
    auto out = tokens;
    out.push_back(3);
    auto logits = model->forward(src.narrow(0, row, 1), torch::tensor(in).unsqueeze(0));
    auto lp = torch::log_softmax(logits, -1).squeeze(0);
    double total = 0;
    bool finished = int64_t(tokens.size()) < 12;
    for (size_t t = 0; t < out.size() - (finished ? 0 : 1); ++t)
      total += lp[t][out[t]].item<double>();
    return total;
  };
  for (int64_t row = 0; row < 3; ++row)
    EXPECT_GE(score(row, beam[row]) + 1e-4, score(row, greedy[row])) << row;
}

TEST(Config, JsonRoundTripAndValidation) {
  auto config = testing::tiny_config(50);
  config.removed_sublayers = {"decoder.layers.0.ffn"};
  auto back = models::TransformerConfig::from_json(config.to_json(), "config.json");
  EXPECT_EQ(back.to_json(), config.to_json());
  auto j = config.to_json();
  j["encoder_attention_heads"] = 5;
  testing::expect_user_error([&] { models::TransformerConfig::from_json(j, "config.json"); },
                             "config.json: encoder_attention_heads must divide d_model 32, got 5");
  j = config.to_json();
  j["d_model"] = "wide";
  testing::expect_user_error([&] { models::TransformerConfig::from_json(j, "config.json"); },
                             "config.json: field d_model has the wrong type: \"wide\"");
}

}  // namespace
}  // namespace slimformer
