// Causal LM family: cached decoding against the full forward pass, grouped-query and rotary
// attention against their definitions, llama2.c import against the model's documented output,
// tokenizer.bin, checkpoints, perplexity windows and sampling.
#include "slimformer/models/causal_lm.h"

#include <gtest/gtest.h>

#include <fstream>

#include "slimformer/core/files.h"
#include "slimformer/data/llama2c_tokenizer.h"
#include "slimformer/eval/generation.h"
#include "slimformer/eval/perplexity.h"
#include "slimformer/nn/attention.h"
#include "slimformer/nn/positions.h"
#include "slimformer/train/checkpoint.h"
#include "slimformer/train/llama2c_import.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

using testing::data_file;
using testing::expect_user_error;
using testing::TempDir;

// Logits of each position computed one token at a time with the cache, after a prompt chunk.
torch::Tensor cached_logits(models::CausalLMImpl& model, const torch::Tensor& tokens,
                            int64_t prompt) {
  auto cache = model.make_state();
  std::vector<torch::Tensor> parts = {model.forward(tokens.narrow(1, 0, prompt), &cache)};
  for (int64_t t = prompt; t < tokens.size(1); ++t)
    parts.push_back(model.forward(tokens.narrow(1, t, 1), &cache));
  return torch::cat(parts, 1);
}

TEST(CausalLM, CachedDecodingEqualsFullForward) {
  torch::NoGradGuard no_grad;
  for (const auto& config : {testing::tiny_gpt_config(), testing::tiny_llama_config()}) {
    models::CausalLM model(config);
    model->eval();
    torch::manual_seed(3);
    torch::Tensor tokens = torch::randint(4, config.vocab_size, {2, 12}, torch::kLong);
    torch::Tensor full = model->forward(tokens);
    EXPECT_TRUE(torch::allclose(cached_logits(*model, tokens, 5), full, 1e-5, 1e-5))
        << config.position_embedding;
  }
}

TEST(CausalLM, GroupedQueryAttentionEqualsRepeatedKeyValueHeads) {
  torch::NoGradGuard no_grad;
  nn::AttentionOptions grouped{32, 4, 0.0, false, true};
  grouped.num_kv_heads = 2;
  nn::SoftmaxAttention gqa(grouped), mha(nn::AttentionOptions{32, 4, 0.0, false, true});
  // Each key/value head of the grouped block serves query heads 2h and 2h + 1.
  auto repeat_heads = [](const torch::Tensor& w) {
    return w.view({2, 8, -1}).repeat_interleave(2, 0).reshape({32, -1});
  };
  mha->q_proj->weight.copy_(gqa->q_proj->weight), mha->q_proj->bias.copy_(gqa->q_proj->bias);
  mha->k_proj->weight.copy_(repeat_heads(gqa->k_proj->weight));
  mha->k_proj->bias.copy_(repeat_heads(gqa->k_proj->bias.unsqueeze(1)).squeeze(1));
  mha->v_proj->weight.copy_(repeat_heads(gqa->v_proj->weight));
  mha->v_proj->bias.copy_(repeat_heads(gqa->v_proj->bias.unsqueeze(1)).squeeze(1));
  mha->out_proj->weight.copy_(gqa->out_proj->weight);
  mha->out_proj->bias.copy_(gqa->out_proj->bias);
  EXPECT_EQ(gqa->k_proj->weight.size(0), 16);
  torch::Tensor x = torch::randn({2, 7, 32});
  EXPECT_TRUE(torch::allclose(gqa->forward(x, {}), mha->forward(x, {}), 1e-5, 1e-6));
}

TEST(CausalLM, RotaryScoresDependOnlyOnRelativePosition) {
  torch::manual_seed(5);
  torch::Tensor q = torch::randn({1, 1, 1, 8}), k = torch::randn({1, 1, 1, 8});
  auto score = [&](int64_t m, int64_t n) {
    return (nn::apply_rotary(q, m, 10000.0) * nn::apply_rotary(k, n, 10000.0)).sum().item<double>();
  };
  EXPECT_NEAR(score(3, 1), score(12, 10), 1e-5);
  EXPECT_NEAR(score(0, 0), (q * k).sum().item<double>(), 1e-6);  // position 0: no rotation
  // Each interleaved pair is rotated by pos / theta^(2i/d): pair 0 by pos radians.
  torch::Tensor unit = torch::zeros({1, 1, 1, 8});
  unit[0][0][0][0] = 1.0;
  torch::Tensor rotated = nn::apply_rotary(unit, 2, 10000.0);
  EXPECT_NEAR(rotated[0][0][0][0].item<double>(), std::cos(2.0), 1e-6);
  EXPECT_NEAR(rotated[0][0][0][1].item<double>(), std::sin(2.0), 1e-6);
  EXPECT_NEAR(rotated.norm().item<double>(), 1.0, 1e-6);
}

// The greedy text in the model's documentation (stories260K.md, `./run ... -t 0.0`).
std::string documented_greedy_text() {
  std::ifstream in(data_file("stories260K/stories260K.md"));
  std::string line, text;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.find("-t 0.0") != std::string::npos) {
      inside = true;
    } else if (inside && line == "```") {
      break;
    } else if (inside) {
      text += (text.empty() ? "" : "\n") + line;
    }
  }
  return text;
}

TEST(Llama2c, ImportedStories260KGeneratesItsDocumentedText) {
  auto weights = train::read_llama2c(data_file("stories260K/stories260K.bin"));
  EXPECT_EQ(weights.config.decoder_layers, 5);
  EXPECT_EQ(weights.config.num_key_value_heads, 4);
  models::CausalLM model(weights.config);
  model->load_state(weights.tensors, "stories260K.bin");
  EXPECT_EQ(model->num_parameters(), 260032);
  auto tokenizer = data::Llama2cTokenizer::load(data_file("stories260K/tok512.bin"));
  // llama2.c's run.c: 256 steps from BOS, stopping at BOS.
  eval::GenerateOptions options;
  options.stop_ids = {data::Llama2cTokenizer::kBos};
  auto ids = eval::generate(*model, {data::Llama2cTokenizer::kBos}, options);
  const std::string expected = documented_greedy_text();
  ASSERT_GT(expected.size(), 500u);
  EXPECT_EQ(tokenizer.decode(ids), expected);
}

TEST(Llama2c, TokenizerRoundTripsAndFallsBackToBytes) {
  auto tokenizer = data::Llama2cTokenizer::load(data_file("stories260K/tok512.bin"));
  EXPECT_EQ(tokenizer.size(), 512);
  EXPECT_EQ(tokenizer.piece(1), "\n<s>\n");
  for (std::string text : {"Once upon a time, there was a little girl named Lily.",
                           "Zoë ate 12 crêpes ✓", "two  spaces\nand a newline"}) {
    auto ids = tokenizer.encode(text);
    EXPECT_EQ(tokenizer.decode(ids), text);
  }
  // A character without a piece becomes its UTF-8 bytes (ids 3 + byte).
  auto ids = tokenizer.encode("✓");
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.back(), 3 + 0x93);
  // Merges produce whole words: fewer tokens than characters.
  EXPECT_LT(tokenizer.encode("Once upon a time").size(), 8u);
}

TEST(Llama2c, RefusesTruncatedAndMismatchedFiles) {
  TempDir dir;
  const std::string model_bytes = core::read_file(data_file("stories260K/stories260K.bin"));
  auto cut = testing::write_file(dir / "cut.bin", model_bytes.substr(0, 100000));
  expect_user_error([&] { train::read_llama2c(cut); },
                    cut +
                        ": truncated: the header (dim 64, hidden_dim 172, 5 layers, vocab 512) "
                        "needs 1056540 bytes, file has 100000");
  auto tiny = testing::write_file(dir / "tiny.bin", "abc");
  expect_user_error([&] { train::read_llama2c(tiny); },
                    tiny + ": truncated: 3 bytes, shorter than the 28-byte header");
  std::string bad_heads = model_bytes;
  bad_heads[12] = 3;  // n_heads 3 does not divide dim 64
  auto bad = testing::write_file(dir / "bad.bin", bad_heads);
  expect_user_error([&] { train::read_llama2c(bad); },
                    bad +
                        ": header field n_heads is 3; expected to divide dim 64 into even head "
                        "sizes");

  const std::string tok_bytes = core::read_file(data_file("stories260K/tok512.bin"));
  auto cut_tok = testing::write_file(dir / "cut_tok.bin", tok_bytes.substr(0, 3000));
  try {
    data::Llama2cTokenizer::load(cut_tok);
    ADD_FAILURE() << "a truncated tokenizer.bin loaded";
  } catch (const core::UserError& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with(cut_tok + ": truncated: ")) << e.what();
  }
}

TEST(CausalLM, CheckpointRoundTripAndTokenizerSizeCheck) {
  TempDir dir;
  auto tokenizer = data::Llama2cTokenizer::load(data_file("stories260K/tok512.bin"));
  auto config = testing::tiny_llama_config();
  config.vocab_size = 512;
  models::CausalLM model(config);
  model->remove("decoder.layers.1.self_attn");
  train::write_model_files(dir.path(), *model, {}, tokenizer, {{"command", "test"}});
  auto ckpt = train::load_causal_lm(dir.path(), torch::kCPU);
  EXPECT_EQ(ckpt.model->config().removed_sublayers,
            std::vector<std::string>{"decoder.layers.1.self_attn"});
  torch::Tensor tokens = torch::randint(3, 512, {1, 9}, torch::kLong);
  torch::NoGradGuard no_grad;
  model->eval(), ckpt.model->eval();
  EXPECT_TRUE(torch::equal(ckpt.model->forward(tokens), model->forward(tokens)));

  // A tokenizer that does not match the model's vocabulary is refused.
  config.vocab_size = 500;
  models::TransformerConfig(config).save((dir / "config.json").string());
  expect_user_error(
      [&] { train::load_causal_lm(dir.path(), torch::kCPU); },
      dir.path().string() + ": tokenizer has 512 pieces but config.json vocab_size is 500");
  // A causal LM is not a translation model.
  config.vocab_size = 512;
  models::TransformerConfig(config).save((dir / "config.json").string());
  expect_user_error([&] { train::load_seq2seq(dir.path(), torch::kCPU); },
                    dir.path().string() +
                        ": model_type causal_lm is not a translation model (expected model_type "
                        "seq2seq)");
}

TEST(Perplexity, ScoresEveryTokenOnceAndMatchesTheLoss) {
  torch::NoGradGuard no_grad;
  auto config = testing::tiny_gpt_config();
  models::CausalLM model(config);
  model->eval();
  std::vector<int64_t> stream;
  for (int i = 0; i < 23; ++i) stream.push_back(4 + (i * 7) % 40);
  auto result = eval::perplexity(*model, stream, {/*context=*/10, /*batch_size=*/2});
  EXPECT_EQ(result.tokens, 23);
  // The first window by hand: BOS + 9 tokens predict the first 10.
  std::vector<int64_t> window = {config.bos_token_id};
  window.insert(window.end(), stream.begin(), stream.begin() + 9);
  torch::Tensor logits = model->forward(torch::tensor(window).unsqueeze(0))[0];
  torch::Tensor targets = torch::tensor(std::vector<int64_t>(stream.begin(), stream.begin() + 10));
  double first =
      torch::nn::functional::cross_entropy(
          logits, targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
          .item<double>();
  auto head = eval::perplexity(*model, {stream.begin(), stream.begin() + 10}, {10, 1});
  EXPECT_NEAR(head.nll_sum, first, 1e-4);
  EXPECT_NEAR(result.perplexity(), std::exp(result.nll_sum / 23), 1e-9);
  EXPECT_EQ(eval::count_words({"a b  c", "", "d"}), 7);  // 4 words + 3 line ends
}

TEST(Generation, PickTokenHonoursTemperatureTopKAndTopP) {
  torch::Tensor logits = torch::tensor({1.0, 3.0, 2.0, 0.5});
  eval::GenerateOptions greedy;
  EXPECT_EQ(eval::pick_token(logits, greedy, 0.99), 1);
  eval::GenerateOptions sample;
  sample.temperature = 1.0;
  sample.top_k = 1;
  EXPECT_EQ(eval::pick_token(logits, sample, 0.99), 1);
  // top_k 2 keeps tokens 1 and 2 with mass e^3 : e^2; a draw past e^3/(e^3+e^2) picks token 2.
  sample.top_k = 2;
  const double split = std::exp(3.0) / (std::exp(3.0) + std::exp(2.0));
  EXPECT_EQ(eval::pick_token(logits, sample, split - 0.01), 1);
  EXPECT_EQ(eval::pick_token(logits, sample, split + 0.01), 2);
  // top_p below the top token's probability keeps it alone.
  sample.top_k = 0;
  sample.top_p = 0.1;
  EXPECT_EQ(eval::pick_token(logits, sample, 0.99), 1);
}

// Beam search as wide as the vocabulary keeps every one-token prefix, so after two steps it has
// seen every two-token continuation: it must return the best of them, found here by scoring all
// V^2 continuations in one full forward pass.
TEST(Generation, BeamAsWideAsTheVocabularyFindsTheBestTwoTokens) {
  torch::NoGradGuard no_grad;
  for (const auto& config : {testing::tiny_gpt_config(), testing::tiny_llama_config()}) {
    torch::manual_seed(5);
    models::CausalLM model(config);
    model->eval();
    const std::vector<int64_t> prompt = {1, 7, 12, 30};
    const int64_t v = config.vocab_size, p = int64_t(prompt.size());
    eval::GenerateOptions options;
    options.max_new_tokens = 2;
    options.beam_size = v;
    options.length_penalty = 0.0;  // plain sums of log-probabilities
    auto best = eval::generate(*model, prompt, options);

    torch::Tensor first = torch::arange(v).repeat_interleave(v),
                  second = torch::arange(v).repeat(v);
    torch::Tensor tokens = torch::cat({torch::tensor(prompt).unsqueeze(0).expand({v * v, p}),
                                       first.unsqueeze(1), second.unsqueeze(1)},
                                      1);
    torch::Tensor log_probs = torch::log_softmax(model->forward(tokens), -1);
    torch::Tensor score = log_probs.select(1, p - 1).gather(1, first.unsqueeze(1)).squeeze(1) +
                          log_probs.select(1, p).gather(1, second.unsqueeze(1)).squeeze(1);
    auto [top, index] = score.topk(2);
    ASSERT_GT(top[0].item<double>() - top[1].item<double>(), 1e-4);  // a clear winner
    const int64_t winner = index[0].item<int64_t>();
    EXPECT_EQ(best, (std::vector<int64_t>{winner / v, winner % v})) << config.position_embedding;
  }
}

TEST(Generation, BeamHypothesesEndAtAStopTokenAndBeamRefusesSampling) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(2);
  models::CausalLM model(testing::tiny_gpt_config());
  eval::GenerateOptions options;
  options.max_new_tokens = 12;
  options.beam_size = 3;
  auto free_run = eval::generate(*model, {1, 2}, options);
  ASSERT_EQ(free_run.size(), 12u);  // no stop token: every hypothesis runs to the limit
  // Stopping at the free run's third token: no hypothesis goes past a stop token.
  options.stop_ids = {free_run[2]};
  for (int64_t token : eval::generate(*model, {1, 2}, options)) EXPECT_NE(token, free_run[2]);
  options.temperature = 0.7;
  expect_user_error(
      [&] {
        eval::generate(*model, {1, 2}, options);
      },
      "generate: beam search (beam 3) does not sample; temperature must be 0, got 0.7");
}

}  // namespace
}  // namespace slimformer
