// slimformer bench encoder: training-step throughput of a BERT-style encoder on a fixed random
// batch, for masked-LM pre-training (15% of positions predicted, logits over the vocabulary at
// every position as BERT computes them) or sequence-classification fine-tuning; AdamW. Reports
// input tokens per second, like its peer bench/peers/train_encoder.py.
#include <iostream>

#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/runtime.h"
#include "slimformer/models/encoder.h"

namespace slimformer::tools {

namespace {

struct EncoderBenchOptions {
  std::string objective = "mlm";
  int64_t d_model = 256, layers = 4, heads = 4, ffn = 1024, vocab = 8000;
  int64_t batch = 32, seq_len = 128;
  int64_t warmup = 3, steps = 10;
};

void bench_encoder(const EncoderBenchOptions& o, const CommonOptions& common) {
  const auto device = core::parse_device(common.device);
  if (o.objective != "mlm" && o.objective != "classify")
    throw core::UserError("bench encoder: --objective must be mlm or classify, got " + o.objective);
  models::TransformerConfig config;
  config.model_type = "encoder";
  config.vocab_size = o.vocab;
  config.d_model = o.d_model;
  config.encoder_layers = o.layers;
  config.decoder_layers = 0;
  config.encoder_attention_heads = o.heads;
  config.encoder_ffn_dim = o.ffn;
  config.activation_function = "gelu";
  config.position_embedding = "learned";
  config.max_position_embeddings = o.seq_len;
  config.scale_embedding = false;
  config.norm_eps = 1e-12;
  config.dropout = config.attention_dropout = 0.1;
  config.encoder_head = o.objective == "mlm" ? "mlm" : "classification";
  config.validate("bench options");
  models::EncoderModel model(config);
  model->to(device);
  model->train();
  torch::optim::AdamW optimizer(
      model->parameters(),
      torch::optim::AdamWOptions(1e-4).betas({0.9, 0.98}).eps(1e-9).weight_decay(0.01));
  torch::manual_seed(0);
  auto tokens = torch::randint(5, o.vocab, {o.batch, o.seq_len}, torch::kInt64).to(device);
  auto segments = torch::cat({torch::zeros({o.batch, o.seq_len / 2}, torch::kInt64),
                              torch::ones({o.batch, o.seq_len - o.seq_len / 2}, torch::kInt64)},
                             1)
                      .to(device);
  // Masked-LM targets at 15% of positions, predicted only there as pretrain does; class labels
  // otherwise.
  auto chosen = (torch::rand({o.batch, o.seq_len}) < 0.15).to(device);
  auto mlm_targets = tokens.index({chosen});
  auto labels = torch::randint(0, 2, {o.batch}, torch::kInt64).to(device);
  namespace F = torch::nn::functional;
  auto step = [&] {
    optimizer.zero_grad();
    auto hidden = model->encode(tokens, segments);
    torch::Tensor loss =
        o.objective == "mlm"
            ? F::cross_entropy(model->mlm_logits(hidden.index({chosen})), mlm_targets)
            : F::cross_entropy(model->classify(hidden), labels);
    loss.backward();
    optimizer.step();
  };
  const double seconds = time_steps(step, o.warmup, o.steps);
  auto info = core::runtime_info();
  nlohmann::json line = {
      {"bench", "encoder_train_step"},
      {"impl", "slimformer"},
      {"objective", o.objective},
      {"parameters", model->num_parameters()},
      {"batch", o.batch},
      {"seq_len", o.seq_len},
      {"steps", o.steps},
      {"step_ms", 1000.0 * seconds / o.steps},
      {"input_tokens_per_second", double(o.batch * o.seq_len * o.steps) / seconds},
      {"intra_op_threads", info.intra_op_threads}};
  std::cout << line.dump() << std::endl;
}

}  // namespace

void add_bench_encoder(CLI::App* bench) {
  auto* cmd = bench->add_subcommand(
      "encoder", "training-step throughput of a BERT-style encoder (masked LM or classification)");
  auto o = std::make_shared<EncoderBenchOptions>();
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("--objective", o->objective, "mlm (pre-training) or classify (fine-tuning)")
      ->capture_default_str();
  cmd->add_option("--d-model", o->d_model)->capture_default_str();
  cmd->add_option("--layers", o->layers)->capture_default_str();
  cmd->add_option("--heads", o->heads)->capture_default_str();
  cmd->add_option("--ffn-dim", o->ffn)->capture_default_str();
  cmd->add_option("--vocab-size", o->vocab)->capture_default_str();
  cmd->add_option("--batch", o->batch, "sequences per batch")->capture_default_str();
  cmd->add_option("--seq-len", o->seq_len)->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed steps first")->capture_default_str();
  cmd->add_option("--steps", o->steps, "timed steps")->capture_default_str();
  common->add_to(cmd);
  add_recipe_flags(cmd);
  cmd->callback([o, common] {
    common->apply();
    bench_encoder(*o, *common);
  });
}

}  // namespace slimformer::tools
