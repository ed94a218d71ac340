// The decomposed encoder (DeFormer): k = 0 is the original; the lower layers of the joint input
// compute what each segment computes alone; the passage cache answers exactly as computing
// everything afresh (float16 within tolerance) and refuses stale, foreign and corrupt entries.
#include "slimformer/methods/decompose/decompose.h"

#include <gtest/gtest.h>

#include "slimformer/data/glue.h"
#include "slimformer/methods/decompose/passage_cache.h"
#include "slimformer/pipeline/qa_service.h"
#include "slimformer/train/checkpoint.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

using testing::expect_user_error;
using testing::TempDir;

models::TransformerConfig span_config(const std::string& positions) {
  models::TransformerConfig c;
  c.model_type = "encoder";
  c.vocab_size = 30;
  c.d_model = 16;
  c.encoder_layers = 4;
  c.decoder_layers = 0;
  c.encoder_attention_heads = 2;
  c.encoder_ffn_dim = 32;
  c.activation_function = "gelu";
  c.position_embedding = positions;
  c.normalize_before = positions == "rotary";
  c.max_position_embeddings = 64;
  c.dropout = 0.0;
  c.encoder_head = "span";
  return c;
}

TEST(Decompose, KZeroIsTheOriginal) {
  torch::NoGradGuard no_grad;
  models::EncoderModel model(span_config("rotary"));
  model->eval();
  torch::Tensor tokens = torch::tensor({{2, 7, 9, 3, 11, 12, 13, 3}});
  torch::Tensor segments = torch::tensor({{0, 0, 0, 0, 1, 1, 1, 1}});
  torch::Tensor joint = model->encode(tokens, segments);
  model->set_separate_layers(2);
  EXPECT_FALSE(torch::allclose(model->encode(tokens, segments), joint, 1e-4, 1e-4));
  model->set_separate_layers(0);
  EXPECT_TRUE(torch::equal(model->encode(tokens, segments), joint));
}

TEST(Decompose, LowerLayersRunOnEachSegmentAlone) {
  torch::NoGradGuard no_grad;
  for (const char* positions : {"rotary", "learned"}) {
    for (int64_t k : {1, 2, 4}) {
      models::EncoderModel model(span_config(positions));
      model->eval();
      model->set_separate_layers(k);
      torch::Tensor question = torch::tensor({{2, 7, 9, 3}});
      torch::Tensor passage = torch::tensor({{11, 12, 13, 14, 15, 3}, {16, 17, 18, 3, 0, 0}});
      torch::Tensor tokens = torch::cat({question.expand({2, -1}), passage}, 1);
      torch::Tensor segments =
          torch::cat({torch::zeros({2, 4}, torch::kLong), torch::ones({2, 6}, torch::kLong)}, 1);
      auto joint = model->span_logits(model->encode(tokens, segments));
      // The passage's states alone, from where it sits in the joint input.
      auto apart = methods::joined_span_logits(
          *model, question, methods::segment_states(*model, question, 0, 0), passage,
          methods::segment_states(*model, passage, 1, 4));
      for (int64_t row : {0, 1}) {
        const int64_t real = row == 0 ? 10 : 8;
        EXPECT_TRUE(torch::allclose(joint.start[row].narrow(0, 0, real),
                                    apart.start[row].narrow(0, 0, real), 1e-4, 1e-4))
            << positions << " k=" << k;
        EXPECT_TRUE(torch::allclose(joint.end[row].narrow(0, 0, real),
                                    apart.end[row].narrow(0, 0, real), 1e-4, 1e-4));
      }
      // Rotary positions: a passage's states do not depend on where it starts.
      if (std::string(positions) == "rotary")
        EXPECT_TRUE(torch::allclose(methods::segment_states(*model, passage, 1, 4),
                                    methods::segment_states(*model, passage, 1, 20), 1e-4, 1e-4));
    }
  }
}

TEST(Decompose, RefusesWhatCannotBeSplit) {
  auto config = span_config("rotary");
  expect_user_error([&] { methods::check_decomposable(config, 5, nullptr, "m"); },
                    "--k 5 is outside [0, 4], the encoder's layers");
  expect_user_error([&] { methods::check_decomposable(config, -1, nullptr, "m"); },
                    "--k -1 is outside [0, 4], the encoder's layers");
  config.encoder_head = "classification";
  expect_user_error([&] { methods::check_decomposable(config, 2, nullptr, "m"); },
                    "decompose needs an encoder with a pair input (a span head, or a "
                    "classification head fine-tuned on a sentence-pair task); m records no "
                    "task, so its input may be single sentences");
  expect_user_error([&] { methods::check_decomposable(config, 2, &data::glue_task("sst-2"), "m"); },
                    "decompose needs an encoder with a pair input (a span head, or a "
                    "classification head fine-tuned on a sentence-pair task); m is "
                    "fine-tuned on SST-2, a single-sentence task");
  methods::check_decomposable(config, 2, &data::glue_task("MRPC"), "m");
  config.encoder_head = "mlm";
  expect_user_error([&] { methods::check_decomposable(config, 2, nullptr, "m"); },
                    "decompose needs an encoder with a pair input (a span head, or a "
                    "classification head fine-tuned on a sentence-pair task); m has a "
                    "masked-LM head");
  EXPECT_EQ(methods::upper_layer_taps(span_config("rotary"), 3),
            std::vector<std::string>{"encoder.layers.3"});
}

TEST(PassageCache, EntriesRoundTripAndDamageIsNamed) {
  methods::CachedPassage p{"Normans#3", "The Normans were ...", {}};
  p.windows.push_back({0, 3, {5, 6, 7, 3}, torch::randn({4, 8})});
  p.windows.push_back({2, 2, {7, 8, 3}, torch::randn({3, 8})});
  for (auto dtype : {torch::kFloat32, torch::kFloat16}) {
    const std::string bytes = methods::encode_passage(p, dtype);
    auto back = methods::decode_passage(bytes, "Normans#3", "c");
    ASSERT_EQ(back.windows.size(), 2u);
    EXPECT_EQ(back.text, p.text);
    EXPECT_EQ(back.windows[1].tokens, p.windows[1].tokens);
    EXPECT_TRUE(torch::allclose(back.windows[0].states, p.windows[0].states, 1e-3, 1e-3));
    std::string damaged = bytes;
    damaged[damaged.size() / 2] ^= 0x10;
    expect_user_error([&] { methods::decode_passage(damaged, "Normans#3", "c"); },
                      "c: the entry of passage 'Normans#3' is corrupt (checksum mismatch)");
    expect_user_error([&] { methods::decode_passage(bytes.substr(0, 20), "Normans#3", "c"); },
                      "c: the entry of passage 'Normans#3' is corrupt (checksum mismatch)");
    expect_user_error([&] { methods::decode_passage(bytes, "Other", "c"); },
                      "c: the entry of passage 'Other' is corrupt (it holds passage 'Normans#3')");
  }
}

// The bundled encoder's body with a span head, decomposed at k = 2, saved with its tokenizer.
std::filesystem::path decomposed_span_model(const TempDir& dir) {
  auto ckpt =
      train::load_encoder(testing::source_dir() / "models/encoder-base", torch::kCPU, "span");
  ckpt.model->set_separate_layers(2);
  train::LoadedModel loaded;
  loaded.model = ckpt.model.ptr();
  loaded.tokenizer = ckpt.tokenizer;
  train::save_model(dir / "model", loaded, nlohmann::json::object(), torch::kFloat32);
  return dir / "model";
}

const char* kPassages =
    "p1\tThe Normans were the people who in the 10th and 11th centuries gave their name to "
    "Normandy, a region in France. They were descended from Norse raiders and pirates from "
    "Denmark, Iceland and Norway who, under their leader Rollo, agreed to swear fealty to King "
    "Charles III of West Francia. Through generations of assimilation and mixing with the native "
    "Frankish and Roman-Gaulish populations, their descendants would gradually merge with the "
    "Carolingian-based cultures of West Francia. The distinct cultural and ethnic identity of "
    "the Normans emerged initially in the first half of the 10th century, and it continued to "
    "evolve over the succeeding centuries.\n"
    "p2\tComputational complexity theory is a branch of the theory of computation.\n";

TEST(PassageCache, CachedStatesAnswerAsComputedAfresh) {
  TempDir dir;
  const auto model = decomposed_span_model(dir);
  const auto passages = testing::write_file(dir / "passages.tsv", kPassages);
  for (bool half : {false, true}) {
    pipeline::CacheBuildOptions o;
    o.model_dir = model;
    o.passages_file = passages;
    o.output = dir / (half ? "cache16" : "cache32");
    o.float16 = half;
    const auto report = pipeline::build_passage_cache(o);
    EXPECT_EQ(report.passages, 2);
    EXPECT_GT(report.windows, 2);  // p1 needs more than one window
    pipeline::QaService service(model, o.output, "");
    EXPECT_EQ(service.passage_ids(), (std::vector<std::string>{"p1", "p2"}));
    for (const char* question : {"Who agreed to swear fealty?", "What is a branch of theory?"})
      for (const char* id : {"p1", "p2"}) {
        auto cached = service.answer_by_id(question, id);
        auto fresh = service.answer_by_id_uncached(question, id);
        EXPECT_TRUE(cached.cached);
        EXPECT_FALSE(fresh.cached);
        EXPECT_EQ(cached.windows, fresh.windows);
        EXPECT_NEAR(cached.score, fresh.score, half ? 0.05 : 1e-3) << question << " " << id;
        if (!half) EXPECT_EQ(cached.text, fresh.text);
      }
    EXPECT_THROW(service.answer_by_id("Who?", "p3"), pipeline::UnknownPassage);
  }
  // An existing cache directory is never overwritten.
  pipeline::CacheBuildOptions again;
  again.model_dir = model;
  again.passages_file = passages;
  again.output = dir / "cache32";
  expect_user_error(
      [&] { pipeline::build_passage_cache(again); },
      (dir / "cache32").string() + " exists; give a new --output directory for the cache");
}

TEST(PassageCache, RefusesAnotherModelOrK) {
  TempDir dir;
  const auto model = decomposed_span_model(dir);
  pipeline::CacheBuildOptions o;
  o.model_dir = model;
  o.passages_file = testing::write_file(dir / "passages.tsv", kPassages);
  o.output = dir / "cache";
  pipeline::build_passage_cache(o);
  // The same weights at another k.
  auto other = train::load_model(model, torch::kCPU);
  other.as<models::EncoderModelImpl>()->set_separate_layers(3);
  train::save_model(dir / "k3", other, nlohmann::json::object(), torch::kFloat32);
  try {
    pipeline::QaService service(dir / "k3", o.output, "");
    ADD_FAILURE() << "a cache for another k was accepted";
  } catch (const core::UserError& e) {
    EXPECT_EQ(std::string(e.what()), "cache " + o.output.string() + " was built for k = 2, " +
                                         (dir / "k3").string() + " has k = 3");
  }
  // Other weights.
  auto changed = train::load_model(model, torch::kCPU);
  {
    torch::NoGradGuard no_grad;
    changed.model->state().at("span_head.bias").add_(1.0);
  }
  train::save_model(dir / "changed", changed, nlohmann::json::object(), torch::kFloat32);
  try {
    pipeline::QaService service(dir / "changed", o.output, "");
    ADD_FAILURE() << "a cache for other weights was accepted";
  } catch (const core::UserError& e) {
    EXPECT_NE(std::string(e.what()).find("was built for another model (fingerprint"),
              std::string::npos)
        << e.what();
  }
  // A model that is not decomposed has nothing to cache.
  auto joint = train::load_model(model, torch::kCPU);
  joint.as<models::EncoderModelImpl>()->set_separate_layers(0);
  train::save_model(dir / "k0", joint, nlohmann::json::object(), torch::kFloat32);
  o.model_dir = dir / "k0";
  o.output = dir / "cache-k0";
  expect_user_error([&] { pipeline::build_passage_cache(o); },
                    (dir / "k0").string() +
                        " is not decomposed (separate_layers 0): nothing of a passage can be "
                        "cached; run slimformer decompose first");
}

TEST(PassageCache, CorruptEntryIsAnErrorNamingThePassage) {
  TempDir dir;
  const auto model = decomposed_span_model(dir);
  pipeline::QaService service(model, "", "");
  auto states = service.passage_states({"p2", "A short passage about theory."});
  {
    methods::PassageCacheWriter writer(dir / "cache", service.cache_identity(), torch::kFloat32);
    std::string bytes = methods::encode_passage(states, torch::kFloat32);
    bytes[bytes.size() - 20] ^= 0x01;
    writer.put_bytes("p2", bytes);
    writer.finish();
  }
  pipeline::QaService cached(model, dir / "cache", "");
  expect_user_error(
      [&] { cached.answer_by_id("What?", "p2"); },
      (dir / "cache").string() + ": the entry of passage 'p2' is corrupt (checksum mismatch)");
}

}  // namespace
}  // namespace slimformer
