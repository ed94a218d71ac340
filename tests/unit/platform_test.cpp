// The seams every method builds on: our own Linear and Embedding, block specs built through the
// registry and recorded in config.json, the decoding-state contract, layer ranges and taps.
#include <gtest/gtest.h>

#include "slimformer/core/files.h"
#include "slimformer/core/glob.h"
#include "slimformer/data/text_file.h"
#include "slimformer/eval/decoding.h"
#include "slimformer/models/architecture.h"
#include "slimformer/models/causal_lm.h"
#include "slimformer/models/encoder.h"
#include "slimformer/models/seq2seq.h"
#include "slimformer/nn/attention.h"
#include "slimformer/nn/feed_forward.h"
#include "slimformer/nn/linear.h"
#include "slimformer/nn/taps.h"
#include "slimformer/train/checkpoint.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

using models::Seq2SeqTransformer;

torch::Tensor random_tokens(int64_t batch, int64_t length, int64_t vocab) {
  return torch::randint(4, vocab, {batch, length}, torch::kInt64);
}

models::TransformerConfig tiny_encoder_config(bool pre_norm) {
  auto c = testing::tiny_config(50);
  c.model_type = "encoder";
  c.decoder_layers = 0;
  c.encoder_layers = 3;
  c.normalize_before = pre_norm;
  c.position_embedding = pre_norm ? "rotary" : "learned";
  c.encoder_head = "classification";
  return c;
}

TEST(Config, EveryFieldIsDocumented) {
  const std::string doc = core::read_file(testing::source_dir() / "docs/CHECKPOINTS.md");
  const auto fields = models::TransformerConfig().to_json();
  for (const auto& [field, value] : fields.items())
    EXPECT_NE(doc.find("`" + field + "`"), std::string::npos) << field;
}

TEST(Linear, DenseEqualsTorchLinearForwardAndBackward) {
  torch::manual_seed(1);
  nn::Linear ours(nn::LinearOptions(12, 5));
  torch::nn::Linear theirs(torch::nn::LinearOptions(12, 5));
  {
    torch::NoGradGuard no_grad;
    theirs->weight.copy_(ours->weight);
    theirs->bias.copy_(ours->bias);
  }
  auto x = torch::randn({3, 4, 12});
  auto a = ours(x), b = theirs(x);
  EXPECT_TRUE(torch::equal(a, b));
  a.pow(2).sum().backward();
  b.pow(2).sum().backward();
  EXPECT_TRUE(torch::equal(ours->weight.grad(), theirs->weight.grad()));
  EXPECT_TRUE(torch::equal(ours->bias.grad(), theirs->bias.grad()));
  nn::Linear no_bias(nn::LinearOptions(12, 5).bias(false));
  EXPECT_EQ(no_bias->named_parameters().size(), 1u);
  EXPECT_TRUE(torch::equal(no_bias(x), torch::matmul(x, no_bias->weight.t())));
}

TEST(Embedding, LooksUpRowsAndProjectsOntoThem) {
  nn::Embedding table(nn::EmbeddingOptions(10, 4).padding_idx(0).init_std(0.5));
  EXPECT_TRUE(torch::equal(table->weight[0], torch::zeros({4})));
  auto ids = torch::tensor({3, 0, 7}, torch::kInt64);
  EXPECT_TRUE(torch::equal(table(ids), table->weight.index_select(0, ids)));
  auto x = torch::randn({2, 4});
  EXPECT_TRUE(torch::allclose(table->project(x), torch::matmul(x, table->weight.t())));
}

TEST(BlockSpec, DefaultsFollowTheStackFieldsAndSpecsDescribeTheirBlocks) {
  auto config = testing::tiny_config(50);
  config.num_key_value_heads = 2;
  Seq2SeqTransformer model(config);
  for (const auto& path : models::sublayer_paths(config))
    EXPECT_EQ(model->sublayer(path)->block()->spec(), models::default_block_spec(config, path))
        << path;
  auto cross = models::default_block_spec(config, "decoder.layers.0.cross_attn");
  EXPECT_EQ(cross.options.at("kv_heads"), 0);  // grouped heads are self-attention's only
  EXPECT_EQ(models::default_block_spec(config, "decoder.layers.0.self_attn").options.at("kv_heads"),
            2);
  EXPECT_EQ(models::default_block_spec(config, "decoder.layers.1.ffn").to_json(),
            nlohmann::json::parse(R"({"kind": "ffn", "hidden_dim": 64, "activation": "relu",
                                      "gated": false, "bias": true})"));
}

TEST(BlockSpec, ReplacedAndResizedBlocksReloadExactly) {
  testing::TempDir dir;
  auto config = testing::tiny_config(400);
  Seq2SeqTransformer model(config);
  model->replace("decoder.layers.0.ffn", {"ffn", {{"hidden_dim", 24}}});
  model->replace("encoder.layers.1.ffn", {"ffn", {{"hidden_dim", 40}, {"activation", "gelu"}}});
  // Fewer heads with the same head width, as head pruning leaves them.
  model->replace("decoder.layers.1.self_attn", {"softmax_attention", {{"heads", 2}}});
  const auto& blocks = model->config().blocks;
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks.at("decoder.layers.0.ffn").options.at("activation"), "relu");  // kept
  EXPECT_EQ(blocks.at("decoder.layers.1.self_attn").options.at("head_dim"), 8);
  EXPECT_EQ(model->state().at("decoder.layers.1.self_attn.block.q_proj.weight").size(0), 16);
  // Replacing with the default spec drops the entry again.
  model->replace("encoder.layers.1.ffn",
                 models::default_block_spec(config, "encoder.layers.1.ffn"));
  EXPECT_EQ(model->config().blocks.size(), 2u);

  train::write_model_files(dir.path(), *model, {}, testing::small_vocab(),
                           nlohmann::json::object());
  auto loaded = train::load_seq2seq(dir.path(), torch::kCPU);
  EXPECT_EQ(loaded.model->config().to_json(), model->config().to_json());
  model->eval(), loaded.model->eval();
  torch::NoGradGuard no_grad;
  auto src = random_tokens(2, 7, 400), tgt = random_tokens(2, 5, 400);
  EXPECT_TRUE(torch::equal(model->forward(src, tgt), loaded.model->forward(src, tgt)));
}

TEST(BlockSpec, InitIsRegeneratedFromTheSeedWithReplacedBlocks) {
  auto config = testing::tiny_config(50);
  config.blocks["decoder.layers.1.ffn"] = {"ffn", {{"hidden_dim", 20}}};
  config.blocks["encoder.layers.0.self_attn"] = {"softmax_attention", {{"heads", 2}}};
  Seq2SeqTransformer first(config);
  auto init = train::regenerate_init(config);
  EXPECT_EQ(init.at("decoder.layers.1.ffn.block.fc1.weight").size(0), 20);
  for (const auto& [key, value] : first->state()) EXPECT_TRUE(torch::equal(init.at(key), value));
  std::string why;
  EXPECT_TRUE(train::init_matches_seed(init, config, &why)) << why;
  // A model changed after its start does not match its config's seed and keeps its init file.
  Seq2SeqTransformer changed(testing::tiny_config(50));
  auto start = train::regenerate_init(changed->config());
  changed->replace("decoder.layers.1.ffn", {"ffn", {{"hidden_dim", 20}}});
  EXPECT_FALSE(train::init_matches_seed(start, changed->config(), &why));
}

TEST(BlockSpec, BadSpecsAreOneLineErrors) {
  auto config = testing::tiny_config(50);
  auto with_block = [&](const std::string& path, const nlohmann::json& spec) {
    auto j = config.to_json();
    j["blocks"] = {{path, spec}};
    return j;
  };
  testing::expect_user_error(
      [&] {
        models::TransformerConfig::from_json(with_block("decoder.layers.0.ffn", {{"kind", "conv"}}),
                                             "config.json");
      },
      "config.json: blocks.decoder.layers.0.ffn: unknown block kind conv (known: ffn, "
      "ffn_expression, linear_attention, softmax_attention)");
  testing::expect_user_error(
      [&] {
        models::TransformerConfig::from_json(
            with_block("decoder.layers.0.ffn", {{"kind", "softmax_attention"}}), "config.json");
      },
      "config.json: blocks.decoder.layers.0.ffn.kind must be a feed-forward kind here, got "
      "\"softmax_attention\"");
  testing::expect_user_error(
      [&] {
        models::TransformerConfig::from_json(with_block("decoder.layers.9.ffn", {{"kind", "ffn"}}),
                                             "config.json");
      },
      "config.json: blocks must be keyed by sublayer paths of this model (encoder.layers.0."
      "self_attn, ...), got \"decoder.layers.9.ffn\"");
  testing::expect_user_error(
      [&] {
        models::TransformerConfig::from_json(with_block("decoder.layers.0.ffn", {{"width", 3}}),
                                             "config.json");
      },
      "config.json: blocks.decoder.layers.0.ffn must be an object with a \"kind\" string, got "
      "{\"width\":3}");
  Seq2SeqTransformer model(config);
  testing::expect_user_error(
      [&] {
        model->replace("decoder.layers.0.ffn", {"ffn", {{"hidden_dims", 8}}});
      },
      "blocks.decoder.layers.0.ffn: kind ffn has no option hidden_dims");
  testing::expect_user_error(
      [&] {
        model->replace("decoder.layers.0.ffn", {"ffn", {{"hidden_dim", 0}}});
      },
      "blocks.decoder.layers.0.ffn.hidden_dim must be >= 1, got 0");
  testing::expect_user_error(
      [&] {
        model->replace("encoder.layers.0.self_attn",
                       {"softmax_attention", {{"heads", 3}, {"head_dim", 0}}});
      },
      "blocks.encoder.layers.0.self_attn.heads must divide the width 32 (or give head_dim), got "
      "3");
  model->remove("decoder.layers.0.ffn");
  testing::expect_user_error(
      [&] {
        model->replace("decoder.layers.0.ffn", {"ffn", {{"hidden_dim", 8}}});
      },
      "decoder.layers.0.ffn: cannot replace the block of a removed sublayer");
}

TEST(DecodingState, BlocksCreateTheirStatesAndBeamReordersThem) {
  Seq2SeqTransformer model(testing::tiny_config(50));
  model->eval();
  torch::NoGradGuard no_grad;
  auto state = model->make_state();
  ASSERT_EQ(state.blocks.size(), 6u);  // 2 layers x (self, cross, ffn)
  EXPECT_TRUE(state.blocks[0] && state.blocks[1]);
  EXPECT_FALSE(state.blocks[2]);  // feed-forward blocks keep nothing
  auto src = random_tokens(3, 5, 50);
  auto encoded = model->encode(src);
  model->decode(random_tokens(3, 2, 50), encoded, &state);
  EXPECT_EQ(state.position, 2);
  auto* self = dynamic_cast<nn::KeyValueState*>(state.blocks[0].get());
  ASSERT_TRUE(self);
  EXPECT_EQ(self->length(), 2);
  // Keys [3 rows, 4 heads, 2 steps, 8] and values, float32; cross-attention's cover the source.
  EXPECT_EQ(self->bytes(), 2 * 3 * 4 * 2 * 8 * 4);
  EXPECT_EQ(state.bytes(), 2 * (2 * 3 * 4 * 2 * 8 * 4 + 2 * 3 * 4 * 5 * 8 * 4));
  auto before = self->keys().clone();
  state.reorder(torch::tensor({2, 2, 0}, torch::kInt64));
  EXPECT_TRUE(torch::equal(self->keys()[0], before[2]));
  EXPECT_TRUE(torch::equal(self->keys()[2], before[0]));
  // Dropping rows (finished sequences) keeps the kept rows' keys.
  state.reorder(torch::tensor({1}, torch::kInt64));
  EXPECT_TRUE(torch::equal(self->keys()[0], before[2]));
  EXPECT_EQ(self->keys().size(0), 1);
  // A removed sublayer has no state.
  model->remove("decoder.layers.1.self_attn");
  EXPECT_FALSE(model->make_state().blocks[3]);
}

// The bundled model decodes the first test sentences exactly as the decoder did before the
// decoding-state contract (tests/data/README.md).
TEST(DecodingState, BundledModelTranslatesAsBefore) {
  auto ckpt = train::load_seq2seq(testing::source_dir() / "models/multi30k-base", torch::kCPU);
  auto lines = data::read_lines(testing::data_file("multi30k/test_2016_flickr.en.gz"));
  lines.resize(60);
  for (int64_t beam : {1, 5}) {
    eval::DecodeOptions options;
    options.beam_size = beam;
    auto expected = data::read_lines((testing::source_dir() / "tests/data" /
                                      (beam == 1 ? "multi30k-base.test2016.first60.greedy.de"
                                                 : "multi30k-base.test2016.first60.beam5.de"))
                                         .string());
    EXPECT_EQ(eval::translate(*ckpt.model, ckpt.vocab, lines, options, torch::kCPU), expected)
        << "beam " << beam;
  }
}

TEST(LayerRange, RunningTwoRangesEqualsRunningAll) {
  torch::NoGradGuard no_grad;
  for (bool pre_norm : {false, true}) {
    models::EncoderModel model(tiny_encoder_config(pre_norm));
    model->eval();
    auto tokens = random_tokens(2, 9, 50);
    tokens[1][8] = 0;  // padding
    auto full = model->encode(tokens);
    auto mask = model->padding_mask(tokens);
    for (int64_t k = 0; k <= 3; ++k) {
      auto lower = model->run_layers(model->embed(tokens), mask, 0, k);
      EXPECT_TRUE(torch::equal(model->run_layers(lower, mask, k, -1), full)) << k << pre_norm;
    }
  }
}

TEST(LayerRange, ASegmentRunAloneFromItsStartPositionEqualsItsPlaceInTheJointInput) {
  // With attention blocked between the two segments of a joint input, the second segment run
  // alone from its start position (learned or rotary positions) computes the same states.
  torch::NoGradGuard no_grad;
  for (bool rotary : {false, true}) {
    models::EncoderModel model(tiny_encoder_config(rotary));
    model->eval();
    auto tokens = random_tokens(1, 7, 50);
    auto segments = torch::tensor({0, 0, 0, 1, 1, 1, 1}, torch::kInt64).unsqueeze(0);
    auto blocked = torch::ones({7, 7}, torch::kBool);
    blocked.narrow(0, 0, 3).narrow(1, 0, 3).fill_(false);
    blocked.narrow(0, 3, 4).narrow(1, 3, 4).fill_(false);
    auto joint =
        model->run_layers(model->embed(tokens, segments), blocked.view({1, 1, 7, 7}), 0, -1);
    auto second = tokens.narrow(1, 3, 4);
    auto alone = model->run_layers(model->embed(second, segments.narrow(1, 3, 4), 3),
                                   model->padding_mask(second), 0, -1, 3);
    EXPECT_TRUE(torch::allclose(alone, joint.narrow(1, 3, 4), 1e-5, 1e-5)) << rotary;
  }
}

TEST(Taps, EqualTheValuesAFullForwardComputes) {
  torch::NoGradGuard no_grad;
  models::EncoderModel model(tiny_encoder_config(true));
  model->eval();
  auto tokens = random_tokens(2, 7, 50);
  auto plain = model->encode(tokens);
  nn::TapRecorder taps(
      {"encoder.embeddings", "encoder.layers.*", "encoder.layers.*.ffn", "encoder.output"});
  auto tapped = model->encode(tokens, {}, &taps);
  EXPECT_TRUE(torch::equal(plain, tapped));
  EXPECT_TRUE(torch::equal(taps.at("encoder.output"), plain));
  EXPECT_TRUE(torch::equal(taps.at("encoder.embeddings"), model->embed(tokens)));
  auto mask = model->padding_mask(tokens);
  auto x = taps.at("encoder.embeddings");
  for (int64_t i = 0; i < 3; ++i) {
    const std::string layer = "encoder.layers." + std::to_string(i);
    x = model->run_layers(x, mask, i, i + 1);
    if (i < 2) EXPECT_TRUE(torch::equal(taps.at(layer), x)) << layer;
    EXPECT_TRUE(torch::equal(taps.at(layer + ".ffn"), taps.at(layer))) << layer;
  }
  // Attention weights: [B, heads, T, T], rows summing to one.
  EXPECT_FALSE(taps.values().count("encoder.layers.0.self_attn.attention_probs"));
  nn::TapRecorder probs({"**.attention_probs"});
  model->encode(tokens, {}, &probs);
  EXPECT_EQ(probs.values().size(), 3u);
  const auto& p = probs.at("encoder.layers.2.self_attn.attention_probs");
  EXPECT_EQ(p.sizes(), (std::vector<int64_t>{2, 4, 7, 7}));
  EXPECT_TRUE(torch::allclose(p.sum(-1), torch::ones({2, 4, 7})));
}

TEST(Taps, DecoderTapsOfTheCausalModel) {
  torch::NoGradGuard no_grad;
  auto config = testing::tiny_config(50);
  config.model_type = "causal_lm";
  config.encoder_layers = 0;
  models::CausalLM model(config);
  model->eval();
  nn::TapRecorder taps({"decoder.layers.1", "decoder.layers.0.self_attn.attention_probs"});
  auto tokens = random_tokens(1, 5, 50);
  model->forward(tokens, nullptr, &taps);
  EXPECT_TRUE(torch::equal(model->logits(taps.at("decoder.layers.1")), model->forward(tokens)));
  // Causal: no weight above the diagonal.
  EXPECT_EQ(
      taps.at("decoder.layers.0.self_attn.attention_probs").triu(1).abs().sum().item<double>(),
      0.0);
}

TEST(Glob, NamesMatchPatterns) {
  EXPECT_TRUE(core::glob_match("encoder.layers.*", "encoder.layers.3"));
  EXPECT_TRUE(core::glob_match("**.attention_probs", "decoder.layers.0.self_attn.attention_probs"));
  EXPECT_FALSE(core::glob_match("encoder.layers.*", "encoder.layers.0.ffn"));
  EXPECT_TRUE(core::glob_match("encoder.layers.*.ffn", "encoder.layers.0.ffn"));
  EXPECT_TRUE(core::glob_match("decoder.layers.1", "decoder.layers.1"));
  EXPECT_FALSE(core::glob_match("decoder.layers.1", "decoder.layers.10"));
  EXPECT_FALSE(core::glob_match("encoder.*.ffn", "encoder.layers.0.self_attn"));
}

}  // namespace
}  // namespace slimformer
