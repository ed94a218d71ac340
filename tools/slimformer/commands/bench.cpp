// slimformer bench: throughput measurements that print one JSON line each, for side-by-side
// comparison with a peer implementation run on the same machine in the same session.
//   bench train: training steps (forward, label-smoothed loss, backward, Adam) on a fixed
//   random batch of the given shape; reports target tokens per second.
//   bench decode: translation models side by side (bench_decode.cpp).
//   bench encoder: BERT-style encoder training steps (bench_encoder.cpp).
//   bench translate, bench generate: decoding speed beside a peer (bench_inference.cpp).
//   bench sparse: the sparse kernel beside the dense product (bench_sparse.cpp).
//   bench linear: softmax with a cache beside recurrent linear attention (bench_linear.cpp).
//   bench forward: encoder forward latency of checkpoints (bench_forward.cpp).
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/runtime.h"
#include "slimformer/models/seq2seq.h"
#include "slimformer/train/loss.h"

namespace slimformer::tools {

namespace {

struct TrainBenchOptions {
  int64_t d_model = 256, layers = 3, heads = 4, ffn = 1024, vocab = 6000;
  int64_t batch = 128, src_len = 20, tgt_len = 20;
  int64_t warmup = 3, steps = 20;
  double dropout = 0.1;
};

void bench_train(const TrainBenchOptions& o, const CommonOptions& common) {
  const auto device = core::parse_device(common.device);
  models::TransformerConfig config;
  config.vocab_size = o.vocab;
  config.d_model = o.d_model;
  config.encoder_layers = config.decoder_layers = o.layers;
  config.encoder_attention_heads = config.decoder_attention_heads = o.heads;
  config.encoder_ffn_dim = config.decoder_ffn_dim = o.ffn;
  config.dropout = o.dropout;
  config.validate("bench options");
  models::Seq2SeqTransformer model(config);
  model->to(device);
  model->train();
  torch::optim::Adam optimizer(model->parameters(),
                               torch::optim::AdamOptions(1e-4).betas({0.9, 0.98}).eps(1e-9));
  torch::manual_seed(0);
  auto tokens = [&](int64_t len) {
    return torch::randint(4, o.vocab, {o.batch, len}, torch::kInt64).to(device);
  };
  auto src = tokens(o.src_len), tgt_in = tokens(o.tgt_len), tgt_out = tokens(o.tgt_len);
  auto step = [&] {
    optimizer.zero_grad();
    auto loss = train::label_smoothed_cross_entropy(model->forward(src, tgt_in), tgt_out, 0.1, 0);
    (loss.loss_sum / double(loss.tokens)).backward();
    optimizer.step();
  };
  const double seconds = time_steps(step, o.warmup, o.steps);
  auto info = core::runtime_info();
  nlohmann::json line = {
      {"bench", "train_step"},
      {"impl", "slimformer"},
      {"parameters", model->num_parameters()},
      {"batch", o.batch},
      {"src_len", o.src_len},
      {"tgt_len", o.tgt_len},
      {"steps", o.steps},
      {"step_ms", 1000.0 * seconds / o.steps},
      {"target_tokens_per_second", double(o.batch * o.tgt_len * o.steps) / seconds},
      {"intra_op_threads", info.intra_op_threads},
      {"blas_threads", info.openblas_threads}};
  std::cout << line.dump() << std::endl;
}

}  // namespace

std::pair<int64_t, int64_t> parse_pair(const std::string& text, const std::string& option,
                                       const std::string& form, const std::string& example) {
  const auto x = text.find('x');
  try {
    if (x != std::string::npos) {
      std::pair<int64_t, int64_t> pair{std::stoll(text.substr(0, x)),
                                       std::stoll(text.substr(x + 1))};
      if (pair.first >= 1 && pair.second >= 1) return pair;
    }
  } catch (const std::exception&) {
  }
  throw core::UserError(
      fmt::format("{} {}: expected {} with both >= 1, e.g. {}", option, text, form, example));
}

double time_steps(const std::function<void()>& step, int64_t warmup, int64_t steps) {
  for (int64_t i = 0; i < warmup; ++i) step();
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) step();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void register_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "throughput benchmarks that print JSON lines");
  cmd->require_subcommand(1);
  auto* train =
      cmd->add_subcommand("train", "training-step throughput of an encoder-decoder model");
  auto o = std::make_shared<TrainBenchOptions>();
  auto common = std::make_shared<CommonOptions>();
  train->add_option("--d-model", o->d_model)->capture_default_str();
  train->add_option("--layers", o->layers, "encoder and decoder layers each")
      ->capture_default_str();
  train->add_option("--heads", o->heads)->capture_default_str();
  train->add_option("--ffn-dim", o->ffn)->capture_default_str();
  train->add_option("--vocab-size", o->vocab)->capture_default_str();
  train->add_option("--batch", o->batch, "sentences per batch")->capture_default_str();
  train->add_option("--src-len", o->src_len)->capture_default_str();
  train->add_option("--tgt-len", o->tgt_len)->capture_default_str();
  train->add_option("--warmup", o->warmup, "untimed steps first")->capture_default_str();
  train->add_option("--steps", o->steps, "timed steps")->capture_default_str();
  train->add_option("--dropout", o->dropout)->capture_default_str();
  common->add_to(train);
  add_recipe_flags(train);
  train->callback([o, common] {
    common->apply();
    bench_train(*o, *common);
  });
  add_bench_decode(cmd);
  add_bench_encoder(cmd);
  add_bench_inference(cmd);
  add_bench_sparse(cmd);
  add_bench_linear(cmd);
  add_bench_forward(cmd);
}

}  // namespace slimformer::tools
