// slimformer bench linear: generation speed and memory of softmax attention with a key/value
// cache beside recurrent linear attention, by output length and batch. Models are given
// checkpoints (for instance an original and its `linearize` output) or, by default, a causal LM of
// a realistic width with random weights and its copy with every self-attention linearized
// (random weights decode at the same speed as trained ones). Greedy decoding from one <s> per
// row, no stop token, so every model does the same number of steps; models alternate within each
// round. One JSON line per model, setting and round: tokens/s, the decoding state's bytes, and the
// process's peak resident memory so far (run one model and setting per process, as
// bench/linear_decode.sh does, to read it per model).
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/process_memory.h"
#include "slimformer/methods/linearize/linearize.h"
#include "slimformer/models/causal_lm.h"
#include "slimformer/models/seq2seq.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

namespace {

struct LinearBenchOptions {
  std::vector<std::string> models;  // empty: the random pair below
  std::vector<std::string> settings = {"1x128", "1x512", "1x2048", "1x4096", "64x256", "64x512"};
  int64_t rounds = 2;
  std::vector<std::string> only;  // run only these models of the pair ("softmax", "linear")
  // The random pair.
  int64_t d_model = 512, layers = 6, heads = 8, ffn = 2048, vocab = 8000;
  std::string feature_map = "t2r";
  int64_t feature_dim = 32;
};

struct Setting {
  int64_t batch, length;
};

struct BenchModel {
  std::string name;
  std::shared_ptr<models::ModelTree> model;
};

models::TransformerConfig random_lm_config(const LinearBenchOptions& o, int64_t max_length) {
  models::TransformerConfig c;
  c.model_type = "causal_lm";
  c.vocab_size = o.vocab;
  c.d_model = o.d_model;
  c.encoder_layers = 0;
  c.decoder_layers = o.layers;
  c.decoder_attention_heads = o.heads;
  c.decoder_ffn_dim = o.ffn;
  c.activation_function = "gelu";
  c.normalize_before = true;
  c.position_embedding = "rotary";
  c.max_position_embeddings = max_length;
  c.dropout = 0.0;
  c.scale_embedding = false;
  c.validate("bench linear");
  return c;
}

std::vector<BenchModel> bench_models(const LinearBenchOptions& o, int64_t max_length) {
  std::vector<BenchModel> out;
  if (!o.models.empty()) {
    for (const auto& dir : o.models) {
      auto loaded = train::load_model(dir, torch::kCPU);
      if (loaded.family() == "encoder")
        throw core::UserError(
            fmt::format("{}: bench linear needs a decoder (an LM or a "
                        "translation model), not an encoder",
                        dir));
      out.push_back({dir, loaded.model});
    }
    return out;
  }
  const auto config = random_lm_config(o, max_length);
  auto softmax = models::build_model(config);
  auto linear = models::build_model(config);
  methods::LinearizeOptions conversion;
  conversion.feature_map = o.feature_map;
  conversion.feature_dim = o.feature_dim;
  methods::linearize(*linear, conversion);
  for (auto& [name, model] : std::vector<BenchModel>{{"softmax", softmax}, {"linear", linear}})
    if (o.only.empty() || std::find(o.only.begin(), o.only.end(), name) != o.only.end())
      out.push_back({name, model});
  if (out.empty()) throw core::UserError("--only must name softmax, linear or both");
  return out;
}

// Greedy decoding of `s.length` tokens for `s.batch` rows; returns seconds and the state's bytes.
std::pair<double, int64_t> decode(models::ModelTree& tree, const Setting& s) {
  torch::Tensor tokens = torch::full({s.batch, 1}, tree.config().bos_token_id, torch::kLong);
  const auto start = std::chrono::steady_clock::now();
  int64_t bytes = 0;
  if (auto* lm = dynamic_cast<models::CausalLMImpl*>(&tree)) {
    auto state = lm->make_state(s.length);
    for (int64_t t = 0; t < s.length; ++t)
      tokens = lm->forward(tokens, &state).select(1, -1).argmax(-1, true);
    bytes = state.bytes();
  } else if (auto* mt = dynamic_cast<models::Seq2SeqTransformerImpl*>(&tree)) {
    // A source of 16 tokens per row; the decoder's steps are what grows.
    torch::Tensor src = torch::full({s.batch, 16}, 4, torch::kLong);
    auto encoded = mt->encode(src);
    auto state = mt->make_state(s.length);
    for (int64_t t = 0; t < s.length; ++t)
      tokens = mt->decode(tokens, encoded, &state).select(1, -1).argmax(-1, true);
    bytes = state.bytes();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {seconds, bytes};
}

void bench_linear(const LinearBenchOptions& o) {
  std::vector<Setting> settings;
  int64_t longest = 2;
  for (const auto& text : o.settings) {
    const auto [batch, length] = parse_pair(text, "--settings", "BATCHxLENGTH", "64x512");
    settings.push_back({batch, length});
    longest = std::max(longest, settings.back().length + 1);
  }
  // Built before inference mode: their parameters must stay ordinary tensors.
  auto models = bench_models(o, longest);
  for (auto& m : models) m.model->module().eval();
  c10::InferenceMode inference;
  for (const auto& s : settings) {
    for (int64_t round = 0; round < o.rounds; ++round) {
      for (auto& m : models) {
        auto [seconds, bytes] = decode(*m.model, s);
        nlohmann::json line = {{"bench", "linear"},
                               {"model", m.name},
                               {"batch", s.batch},
                               {"length", s.length},
                               {"round", round},
                               {"seconds", seconds},
                               {"tokens_per_second", double(s.batch * s.length) / seconds},
                               {"state_mb", double(bytes) / (1 << 20)},
                               {"peak_rss_mb", core::peak_resident_mb()}};
        std::cout << line.dump() << std::endl;
      }
    }
  }
}

}  // namespace

void add_bench_linear(CLI::App* bench) {
  auto o = std::make_shared<LinearBenchOptions>();
  auto* cmd = bench->add_subcommand(
      "linear",
      "generation by output length: softmax with a key/value cache beside recurrent "
      "linear attention, tokens/s and memory");
  cmd->add_option("--models", o->models,
                  "checkpoints to compare (an original and its linearized copy); default: a "
                  "random causal LM and its linearized copy");
  cmd->add_option("--settings", o->settings, "BATCHxLENGTH settings")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--rounds", o->rounds, "rounds; models alternate within each")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--only", o->only, "of the random pair, only these (softmax, linear)")
      ->delimiter(',');
  cmd->add_option("--d-model", o->d_model, "random pair: width")->capture_default_str();
  cmd->add_option("--layers", o->layers, "random pair: layers")->capture_default_str();
  cmd->add_option("--heads", o->heads, "random pair: attention heads")->capture_default_str();
  cmd->add_option("--ffn", o->ffn, "random pair: feed-forward width")->capture_default_str();
  cmd->add_option("--vocab", o->vocab, "random pair: vocabulary size")->capture_default_str();
  cmd->add_option("--feature-map", o->feature_map, "random pair: t2r, elu or rfa")
      ->capture_default_str();
  cmd->add_option("--feature-dim", o->feature_dim, "random pair: features per head")
      ->capture_default_str();
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  add_recipe_flags(cmd);
  cmd->callback([o, common] {
    common->apply();
    bench_linear(*o);
  });
}

}  // namespace slimformer::tools
