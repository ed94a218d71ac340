// BERT-style encoder: padding does not leak into real tokens, the Hugging Face BERT layout loads
// and saves with its own names, and a pre-trained body starts a model with a new task head.
#include "slimformer/models/encoder.h"

#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "slimformer/core/files.h"
#include "slimformer/data/masked_lm.h"
#include "slimformer/data/wordpiece.h"
#include "slimformer/train/checkpoint.h"
#include "slimformer/train/hf_bert.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

using testing::TempDir;
using testing::write_file;

models::TransformerConfig bert_config(const std::string& head = "mlm") {
  models::TransformerConfig c;
  c.model_type = "encoder";
  c.vocab_size = 24;
  c.d_model = 16;
  c.encoder_layers = 2;
  c.decoder_layers = 0;
  c.encoder_attention_heads = 2;
  c.encoder_ffn_dim = 32;
  c.activation_function = "gelu";
  c.position_embedding = "learned";
  c.max_position_embeddings = 32;
  c.scale_embedding = false;
  c.norm_eps = 1e-12;
  c.dropout = 0.0;
  c.encoder_head = head;
  return c;
}

std::string write_vocab(const TempDir& dir) {
  std::string text = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (int i = 5; i < 24; ++i) text += "w" + std::to_string(i) + "\n";
  return write_file(dir / "vocab.txt", text);
}

TEST(Encoder, PaddingDoesNotChangeRealTokens) {
  torch::NoGradGuard no_grad;
  for (const char* positions : {"learned", "rotary"}) {
    auto config = bert_config();
    config.position_embedding = positions;
    models::EncoderModel model(config);
    model->eval();
    torch::Tensor tokens = torch::tensor({2, 7, 9, 3}).unsqueeze(0);
    torch::Tensor padded = torch::tensor({2, 7, 9, 3, 0, 0}).unsqueeze(0);
    EXPECT_TRUE(
        torch::allclose(model->encode(tokens), model->encode(padded).narrow(1, 0, 4), 1e-5, 1e-5))
        << positions;
    EXPECT_EQ(model->mlm_logits(model->encode(tokens)).sizes(), (std::vector<int64_t>{1, 4, 24}));
    // Rotary positions live in attention: no position table.
    EXPECT_EQ(model->state().count("embed_positions.weight"),
              std::string(positions) == "learned" ? 1u : 0u);
  }
}

TEST(Encoder, HuggingFaceNamesRoundTrip) {
  std::set<std::string> hf_names;
  for (const char* head : {"mlm", "classification", "span"}) {
    models::EncoderModel model(bert_config(head));
    for (const auto& [name, tensor] : model->state()) {
      const std::string hf = train::to_hf_bert_name(name);
      ASSERT_FALSE(hf.empty()) << name;
      EXPECT_EQ(train::from_hf_bert_name(hf), name);
      hf_names.insert(hf);
    }
  }
  // The names a Hugging Face BertForMaskedLM / ForSequenceClassification / ForQuestionAnswering
  // checkpoint uses for layer 1 and the heads.
  for (const char* name :
       {"bert.embeddings.word_embeddings.weight", "bert.embeddings.token_type_embeddings.weight",
        "bert.embeddings.LayerNorm.bias", "bert.encoder.layer.1.attention.self.query.weight",
        "bert.encoder.layer.1.attention.output.dense.bias",
        "bert.encoder.layer.1.attention.output.LayerNorm.weight",
        "bert.encoder.layer.1.intermediate.dense.weight", "bert.encoder.layer.1.output.dense.bias",
        "bert.encoder.layer.1.output.LayerNorm.bias", "bert.pooler.dense.weight",
        "cls.predictions.transform.dense.weight", "cls.predictions.transform.LayerNorm.weight",
        "cls.predictions.bias", "classifier.weight", "qa_outputs.bias"})
    EXPECT_TRUE(hf_names.count(name)) << name;
  EXPECT_EQ(train::from_hf_bert_name("bert.encoder.layer.0.output.LayerNorm.gamma"),
            "encoder.layers.0.ffn.norm.weight");
  EXPECT_EQ(train::from_hf_bert_name("encoder.layer.0.attention.self.key.bias"),
            "encoder.layers.0.self_attn.block.k_proj.bias");
  EXPECT_EQ(train::from_hf_bert_name("bert.encoder.layer.0.crossattention.self.query.weight"), "");
}

TEST(Encoder, LoadsAHuggingFaceDirectoryAndWritesOne) {
  torch::NoGradGuard no_grad;
  TempDir dir;
  const auto hf = dir / "hf";
  std::filesystem::create_directories(hf);
  models::EncoderModel original(bert_config("classification"));
  original->eval();
  // The files as Hugging Face writes them: its config keys and its parameter names.
  write_file(hf / "config.json", R"({"model_type": "bert", "architectures":
    ["BertForSequenceClassification"], "vocab_size": 24, "hidden_size": 16,
    "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32,
    "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 32, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
    "pad_token_id": 0})");
  core::TensorMap named;
  for (const auto& [name, tensor] : original->state()) named[train::to_hf_bert_name(name)] = tensor;
  named["bert.embeddings.position_ids"] = torch::arange(32).unsqueeze(0);
  core::save_safetensors(hf / "model.safetensors", named);
  write_vocab(dir);
  std::filesystem::copy_file(dir / "vocab.txt", hf / "vocab.txt");

  EXPECT_EQ(train::checkpoint_model_type(hf), "encoder");
  auto ckpt = train::load_encoder(hf, torch::kCPU);
  ckpt.model->eval();
  EXPECT_EQ(ckpt.model->config().encoder_head, "classification");
  torch::Tensor tokens = torch::tensor({2, 7, 9, 3}).unsqueeze(0);
  torch::Tensor segments = torch::tensor({0, 0, 1, 1}).unsqueeze(0);
  EXPECT_TRUE(torch::equal(ckpt.model->classify(ckpt.model->encode(tokens, segments)),
                           original->classify(original->encode(tokens, segments))));
  EXPECT_EQ(ckpt.tokenizer->bos_id(), 2);

  // Written back in the same layout, it has the same names and loads to the same model.
  const auto out = dir / "out";
  std::filesystem::create_directories(out);
  train::write_hf_bert(out, *ckpt.model, *ckpt.tokenizer);
  auto written = core::load_safetensors(out / "model.safetensors");
  EXPECT_EQ(written.size(), named.size() - 1);  // all but position_ids
  EXPECT_TRUE(written.count("bert.encoder.layer.1.output.LayerNorm.weight"));
  auto reloaded = train::load_encoder(out, torch::kCPU);
  reloaded.model->eval();
  EXPECT_TRUE(torch::equal(reloaded.model->encode(tokens), original->encode(tokens)));

  // The body starts a model with another head: same hidden states, a new span head.
  auto span = train::load_encoder(out, torch::kCPU, "span");
  span.model->eval();
  EXPECT_TRUE(torch::equal(span.model->encode(tokens), original->encode(tokens)));
  EXPECT_EQ(span.model->span_logits(span.model->encode(tokens)).start.sizes(),
            (std::vector<int64_t>{1, 4}));

  // A tensor outside BERT is refused with its name.
  named["bert.encoder.layer.0.crossattention.self.query.weight"] = torch::zeros({2});
  core::save_safetensors(hf / "model.safetensors", named);
  testing::expect_user_error(
      [&] { train::load_encoder(hf, torch::kCPU); },
      (hf / "model.safetensors").string() +
          ": tensor bert.encoder.layer.0.crossattention.self.query.weight is not part of a BERT "
          "model");
}

TEST(Encoder, HuggingFaceLayoutRefusesWhatBertCannotHold) {
  TempDir dir;
  write_vocab(dir);
  auto tokenizer = data::WordPieceTokenizer::load((dir / "vocab.txt").string());
  auto config = bert_config();
  config.normalize_before = true;
  models::EncoderModel pre_norm(config);
  testing::expect_user_error(
      [&] { train::write_hf_bert(dir.path(), *pre_norm, tokenizer); },
      "the Hugging Face BERT layout cannot hold a pre-norm model (normalize_before: true); BERT "
      "is post-norm");
  config = bert_config();
  config.position_embedding = "rotary";
  models::EncoderModel rotary(config);
  testing::expect_user_error(
      [&] { train::write_hf_bert(dir.path(), *rotary, tokenizer); },
      "the Hugging Face BERT layout cannot hold position_embedding rotary; BERT learns absolute "
      "positions");
  EXPECT_FALSE(std::filesystem::exists(dir / "config.json"));  // nothing written
}

}  // namespace
}  // namespace slimformer

namespace slimformer {
namespace {

TEST(MaskedLM, PairsFitAndCarrySegments) {
  std::vector<std::vector<int64_t>> lines = {
      {10, 11, 12}, {13, 14}, {}, {15, 16, 17, 18}, {19}, std::vector<int64_t>(40, 20)};
  data::SpecialIds special{0, 2, 3, 4};
  auto pairs = data::make_segment_pairs(lines, 12, special, 7);
  int64_t content = 0;
  for (const auto& p : pairs) {
    ASSERT_LE(p.tokens.size(), 12u);
    EXPECT_EQ(p.tokens.front(), 2);
    EXPECT_EQ(p.tokens.back(), 3);
    EXPECT_EQ(p.tokens.size(), p.segments.size());
    EXPECT_EQ(p.segments.front(), 0);
    for (int64_t t : p.tokens) content += t >= 10;
  }
  EXPECT_EQ(pairs.front().segments.back(), 1);  // two lines: A and B
  EXPECT_EQ(content, 3 + 2 + 4 + 1 + 40);       // the 40-token line is split, not cut
  EXPECT_EQ(pairs.back().tokens, (std::vector<int64_t>{2, 20, 20, 20, 20, 3, 20, 20, 20, 20, 3}));
}

TEST(MaskedLM, MasksWithTheEightyTenTenRule) {
  data::SpecialIds special{0, 2, 3, 4};
  std::vector<data::SegmentPair> pairs;
  for (int i = 0; i < 200; ++i) {
    data::SegmentPair p;
    p.tokens.push_back(2);
    for (int k = 0; k < 100; ++k) p.tokens.push_back(5 + (k % 50));
    p.tokens.push_back(3);
    p.segments.assign(p.tokens.size(), 0);
    pairs.push_back(p);
  }
  std::vector<int64_t> all(200);
  std::iota(all.begin(), all.end(), 0);
  auto batch = data::mask_batch(pairs, all, special, 60, 0.15, 11);
  torch::Tensor chosen = batch.targets.ne(0);
  const double n = chosen.sum().item<double>(), total = 200 * 100;
  EXPECT_NEAR(n / total, 0.15, 0.01);
  const double masked = batch.tokens.eq(4).logical_and(chosen).sum().item<double>();
  const double kept = batch.tokens.eq(batch.targets).logical_and(chosen).sum().item<double>();
  EXPECT_NEAR(masked / n, 0.8, 0.02);
  EXPECT_NEAR(kept / n, 0.1 + 0.1 / 56, 0.02);  // unchanged, or replaced by itself
  // [CLS] and [SEP] are never chosen; the same seed masks the same way.
  EXPECT_EQ(batch.targets.select(1, 0).ne(0).sum().item<int64_t>(), 0);
  EXPECT_EQ(batch.targets.select(1, 101).ne(0).sum().item<int64_t>(), 0);
  EXPECT_TRUE(
      torch::equal(data::mask_batch(pairs, all, special, 60, 0.15, 11).tokens, batch.tokens));
}

}  // namespace
}  // namespace slimformer
