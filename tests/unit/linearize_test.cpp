// Linear attention and the Transformer-to-RNN conversion: the recurrent form against the parallel
// form for every feature map (with rotary positions and grouped heads), the formula itself, the
// identity-like map, cross-attention's once-per-sentence summary, long generation, beam reordering,
// converted models decoding as they compute in full, reloading, and the pinned errors.
#include "slimformer/nn/linear_attention.h"

#include <gtest/gtest.h>

#include "slimformer/eval/decoding.h"
#include "slimformer/methods/linearize/linearize.h"
#include "slimformer/models/causal_lm.h"
#include "slimformer/models/encoder.h"
#include "slimformer/train/checkpoint.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

using nn::BlockContext;
using nn::LinearAttention;
using nn::LinearAttentionOptions;
using nn::RecurrentState;

LinearAttentionOptions block_options(const std::string& map, double rotary, int64_t kv_heads) {
  LinearAttentionOptions o;
  o.attention.embed_dim = 32;
  o.attention.num_heads = 4;
  o.attention.num_kv_heads = kv_heads;
  o.attention.rotary_theta = rotary;
  o.attention.causal = true;
  o.feature_map = map;
  o.feature_dim = 6;
  return o;
}

// Outputs of a prompt of `prompt` steps, then one step at a time, through a recurrent state.
torch::Tensor recurrent_outputs(nn::LinearAttentionImpl& block, const torch::Tensor& x,
                                int64_t prompt) {
  auto state = block.make_state(0);
  std::vector<torch::Tensor> parts;
  for (int64_t t = 0; t < x.size(1);) {
    const int64_t steps = t == 0 ? prompt : 1;
    BlockContext context;
    context.position = t;
    context.state = state.get();
    parts.push_back(block.forward(x.narrow(1, t, steps), context));
    t += steps;
  }
  return torch::cat(parts, 1);
}

TEST(LinearAttention, RecurrentFormEqualsParallelForm) {
  torch::NoGradGuard no_grad;
  for (const std::string map : {"t2r", "elu", "rfa"})
    for (double rotary : {0.0, 10000.0})
      for (int64_t kv_heads : {0, 2}) {
        torch::manual_seed(1);
        LinearAttention block(block_options(map, rotary, kv_heads));
        torch::Tensor x = torch::randn({2, 9, 32});
        torch::Tensor parallel = block->forward(x, {});
        // RFA's similarities can sum to about zero; the clamped normalizer then makes outputs
        // large, and the tolerance follows their scale.
        const double atol = 1e-5 * (1 + parallel.abs().max().item<double>());
        for (int64_t prompt : {1, 4})
          EXPECT_TRUE(torch::allclose(recurrent_outputs(*block, x, prompt), parallel, 1e-4, atol))
              << map << " rotary " << rotary << " kv_heads " << kv_heads << " prompt " << prompt;
      }
}

// Per head: sum_j phi(q_i).phi(k_j) v_j / sum_j phi(q_i).phi(k_j) over the keys i may see.
TEST(LinearAttention, ComputesItsFormula) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(2);
  auto options = block_options("elu", 0.0, 0);
  options.attention.causal = false;
  LinearAttention block(options);
  torch::Tensor x = torch::randn({2, 5, 32});
  // The second sequence's last two positions are padding.
  torch::Tensor mask = torch::zeros({2, 1, 1, 5}, torch::kBool);
  mask[1][0][0].narrow(0, 3, 2).fill_(true);
  BlockContext context;
  context.self_mask = mask;
  torch::Tensor out = block->forward(x, context);

  auto heads = [](const torch::Tensor& t) { return t.view({2, 5, 4, 8}); };
  torch::Tensor q = heads(block->q_proj(x)), k = heads(block->k_proj(x)),
                v = heads(block->v_proj(x));
  torch::Tensor expected = torch::zeros({2, 5, 4, 8});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 4; ++h)
      for (int64_t i = 0; i < 5; ++i) {
        torch::Tensor numerator = torch::zeros({8});
        double normalizer = 0;
        for (int64_t j = 0; j < (b == 1 ? 3 : 5); ++j) {
          const double a = ((torch::elu(q[b][i][h]) + 1) * (torch::elu(k[b][j][h]) + 1))
                               .sum()
                               .item<double>();
          numerator += a * v[b][j][h];
          normalizer += a;
        }
        expected[b][i][h] = numerator / normalizer;
      }
  EXPECT_TRUE(torch::allclose(out, block->out_proj(expected.view({2, 5, 32})), 1e-4, 1e-5));
}

// A t2r map at the identity with a large bias gives every visible key the same similarity: the
// block then outputs the running mean of the values (docs/LINEAR_ATTENTION.md).
TEST(LinearAttention, IdentityMapWithLargeBiasAveragesTheVisibleValues) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  auto options = block_options("t2r", 0.0, 0);
  options.feature_dim = 8;  // the head dimension
  LinearAttention block(options);
  block->feature_map->weight.copy_(torch::eye(8).expand({4, 8, 8}));
  block->feature_map->bias.fill_(1e4);
  torch::Tensor x = torch::randn({2, 6, 32});
  torch::Tensor v = block->v_proj(x);
  torch::Tensor running_mean =
      v.cumsum(1) / torch::arange(1, 7, torch::kFloat32).view({1, 6, 1});
  EXPECT_TRUE(
      torch::allclose(block->forward(x, {}), block->out_proj(running_mean), 1e-3, 1e-4));
}

TEST(LinearAttention, CrossAttentionSummarizesTheSourceOnce) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(4);
  for (const std::string map : {"t2r", "rfa"}) {
    auto options = block_options(map, 0.0, 0);
    options.attention.causal = false;
    options.attention.cross = true;
    LinearAttention block(options);
    BlockContext context;
    context.memory = torch::randn({2, 6, 32});
    context.memory_mask = torch::zeros({2, 1, 1, 6}, torch::kBool);
    context.memory_mask[1][0][0].narrow(0, 4, 2).fill_(true);
    torch::Tensor x = torch::randn({2, 3, 32});
    torch::Tensor parallel = block->forward(x, context);
    auto state = block->make_state(0);
    context.state = state.get();
    for (int64_t t = 0; t < 3; ++t) {
      context.position = t;
      EXPECT_TRUE(torch::allclose(block->forward(x.narrow(1, t, 1), context),
                                  parallel.narrow(1, t, 1), 1e-4, 1e-5))
          << map << " step " << t;
    }
    // S [2 rows, 4 heads, 6 features, 8] and z [2, 4, 6], float32.
    EXPECT_EQ(state->bytes(), (2 * 4 * 6 * 8 + 2 * 4 * 6) * 4);
  }
}

TEST(LinearAttention, LongGenerationStaysFiniteInFixedMemory) {
  torch::NoGradGuard no_grad;
  for (const std::string map : {"t2r", "elu", "rfa"}) {
    torch::manual_seed(5);
    LinearAttention block(block_options(map, 10000.0, 2));
    auto state = block->make_state(0);
    BlockContext context;
    context.state = state.get();
    int64_t bytes = 0;
    for (int64_t t = 0; t < 4096; ++t) {
      context.position = t;
      torch::Tensor out = block->forward(torch::randn({1, 1, 32}) * 3, context);
      ASSERT_TRUE(torch::isfinite(out).all().item<bool>()) << map << " step " << t;
      if (t == 0) bytes = state->bytes();
      ASSERT_EQ(state->bytes(), bytes) << map;
    }
  }
}

TEST(LinearAttention, ReorderMovesAndDropsRows) {
  torch::NoGradGuard no_grad;
  LinearAttention block(block_options("t2r", 0.0, 0));
  auto state = block->make_state(0);
  BlockContext context;
  context.state = state.get();
  block->forward(torch::randn({3, 2, 32}), context);
  auto* recurrent = dynamic_cast<RecurrentState*>(state.get());
  ASSERT_TRUE(recurrent);
  auto before = recurrent->sums().clone();
  state->reorder(torch::tensor({2, 2, 0}, torch::kInt64), nn::Reorder::kWithinSource);
  EXPECT_TRUE(torch::equal(recurrent->sums()[0], before[2]));
  EXPECT_TRUE(torch::equal(recurrent->sums()[2], before[0]));
  state->reorder(torch::tensor({2}, torch::kInt64), nn::Reorder::kAny);
  EXPECT_EQ(recurrent->sums().size(0), 1);
  EXPECT_TRUE(torch::equal(recurrent->sums()[0], before[0]));
}

TEST(Linearize, ConvertedModelsDecodeAsTheyComputeInFull) {
  torch::NoGradGuard no_grad;
  for (const std::string map : {"t2r", "elu", "rfa"}) {
    // A Llama-style LM: prompt, then a token at a time, against the full forward pass.
    models::CausalLM lm(testing::tiny_llama_config());
    lm->eval();
    methods::LinearizeOptions options;
    options.feature_map = map;
    EXPECT_EQ(methods::linearize(*lm, options),
              (std::vector<std::string>{"decoder.layers.0.self_attn", "decoder.layers.1.self_attn"}));
    torch::manual_seed(6);
    torch::Tensor tokens = torch::randint(4, 50, {2, 12}, torch::kLong);
    auto state = lm->make_state();
    std::vector<torch::Tensor> parts = {lm->forward(tokens.narrow(1, 0, 5), &state)};
    for (int64_t t = 5; t < 12; ++t) parts.push_back(lm->forward(tokens.narrow(1, t, 1), &state));
    EXPECT_TRUE(torch::allclose(torch::cat(parts, 1), lm->forward(tokens), 1e-4, 1e-5)) << map;

    // A translation model with self- and cross-attention converted: teacher-forced decoding.
    models::Seq2SeqTransformer mt(testing::tiny_config(50));
    mt->eval();
    methods::linearize(*mt, options);
    torch::Tensor src = torch::randint(4, 50, {2, 7}, torch::kLong);
    src[1][6] = mt->config().pad_token_id;
    torch::Tensor tgt = torch::randint(4, 50, {2, 6}, torch::kLong);
    auto encoded = mt->encode(src);
    auto decoding = mt->make_state();
    std::vector<torch::Tensor> steps;
    for (int64_t t = 0; t < 6; ++t)
      steps.push_back(mt->decode(tgt.narrow(1, t, 1), encoded, &decoding));
    EXPECT_TRUE(torch::allclose(torch::cat(steps, 1), mt->forward(src, tgt), 1e-4, 1e-5)) << map;
  }
}

// Beam search reorders and drops rows of every state: a batch must decode as each of its
// sentences alone.
TEST(Linearize, BeamSearchOfABatchEqualsEachSentenceAlone) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(7);
  models::Seq2SeqTransformer mt(testing::tiny_config(50));
  mt->eval();
  methods::LinearizeOptions options;
  options.sublayers = {"decoder.layers.*.self_attn"};  // a mixed model: cross stays softmax
  methods::linearize(*mt, options);
  torch::Tensor src = torch::randint(4, 50, {3, 6}, torch::kLong);
  auto batch = eval::beam_search(*mt, src, 12, 4, 1.0);
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_EQ(eval::beam_search(*mt, src.narrow(0, i, 1), 12, 4, 1.0)[0], batch[i]) << i;
}

TEST(Linearize, ConvertedCheckpointReloadsExactly) {
  testing::TempDir dir;
  models::Seq2SeqTransformer model(testing::tiny_config(400));
  methods::LinearizeOptions options;
  options.feature_map = "rfa";
  options.feature_dim = 10;
  methods::linearize(*model, options);
  const auto& spec = model->config().blocks.at("decoder.layers.1.cross_attn");
  EXPECT_EQ(spec.kind, "linear_attention");
  EXPECT_EQ(spec.options.at("feature_map"), "rfa");
  train::write_model_files(dir.path(), *model, {}, testing::small_vocab(),
                           nlohmann::json::object());
  auto loaded = train::load_seq2seq(dir.path(), torch::kCPU);
  EXPECT_EQ(loaded.model->config().to_json(), model->config().to_json());
  model->eval(), loaded.model->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor src = torch::randint(4, 400, {2, 7}, torch::kLong),
                tgt = torch::randint(4, 400, {2, 5}, torch::kLong);
  EXPECT_TRUE(torch::equal(model->forward(src, tgt), loaded.model->forward(src, tgt)));
}

TEST(Linearize, AttentionOnlyTrainsProjectionsAndMaps) {
  EXPECT_EQ(methods::attention_only_parameters({"decoder.layers.0.self_attn"}),
            (std::vector<std::string>{"decoder.layers.0.self_attn.block.q_proj.**",
                                      "decoder.layers.0.self_attn.block.k_proj.**",
                                      "decoder.layers.0.self_attn.block.v_proj.**",
                                      "decoder.layers.0.self_attn.block.feature_map.**"}));
}

TEST(Linearize, PinnedErrors) {
  models::Seq2SeqTransformer model(testing::tiny_config(50));
  methods::LinearizeOptions options;
  options.feature_map = "relu";
  testing::expect_user_error([&] { methods::linearize(*model, options); },
                             "--feature-map must be one of t2r, elu, rfa, got 'relu'");
  options.feature_map = "t2r";
  options.feature_dim = 0;
  testing::expect_user_error([&] { methods::linearize(*model, options); },
                             "--feature-dim must be >= 1, got 0");
  options.feature_dim = 16;
  options.sublayers = {"decoder.layers.*.ffn"};
  testing::expect_user_error(
      [&] { methods::linearize(*model, options); },
      "--sublayers: 'decoder.layers.*.ffn' matches no attention sublayer of this model");
  options.sublayers = {"decoder.layers.0.self_attn"};
  methods::linearize(*model, options);
  testing::expect_user_error([&] { methods::linearize(*model, options); },
                             "--sublayers: decoder.layers.0.self_attn is linear_attention, not "
                             "softmax attention");
  auto config = testing::tiny_config(50);
  config.model_type = "encoder";
  config.decoder_layers = 0;
  config.encoder_head = "classification";
  models::EncoderModel encoder(config);
  options.sublayers = {};
  testing::expect_user_error(
      [&] { methods::linearize(*encoder, options); },
      "an encoder-only model has no decoder to run as an RNN: linearize converts the attention "
      "of translation models and language models");
}

}  // namespace
}  // namespace slimformer
