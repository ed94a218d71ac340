// slimformer bench forward: encoder forward latency of given checkpoints (for instance an encoder
// and its magnitude-pruned copies) by batch and length, on random tokens, models alternating
// within each round. The product with each weight goes through nn::Linear's WeightProduct, so a
// pruned matrix past the measured crossover runs the sparse kernel as in every other command;
// --sparse-kernels 0,auto,always runs each model under each choice of products (the same weights
// through OpenBLAS, the switch, every pruned matrix through the kernel), alternating within each
// round. One JSON line per model, kernel choice, setting and round: milliseconds per batch and
// tokens/s.
#include <fmt/format.h>

#include <iostream>

#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/kernels/sparse_matmul.h"
#include "slimformer/models/encoder.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

namespace {

struct ForwardBenchOptions {
  std::vector<std::string> models;
  std::vector<std::string> settings = {"1x128", "32x128"};
  std::vector<std::string> sparse_kernels;  // empty: SLIMFORMER_SPARSE_KERNELS's choice
  int64_t rounds = 3, steps = 20, warmup = 3;
};

void bench_forward(const ForwardBenchOptions& o) {
  std::vector<std::pair<int64_t, int64_t>> settings;
  for (const auto& text : o.settings)
    settings.push_back(parse_pair(text, "--settings", "BATCHxLENGTH", "32x128"));
  std::vector<kernels::SparseKernels> choices;
  if (o.sparse_kernels.empty()) choices.push_back(kernels::sparse_kernels_mode());
  for (const auto& text : o.sparse_kernels) {
    try {
      choices.push_back(kernels::parse_sparse_kernels(text));
    } catch (const std::invalid_argument& error) {
      throw core::UserError(std::string("--sparse-kernels ") + error.what());
    }
  }
  // Loaded before inference mode: their parameters must stay ordinary tensors.
  std::vector<std::shared_ptr<models::EncoderModelImpl>> models;
  for (const auto& dir : o.models) {
    auto loaded = train::load_model(dir, torch::kCPU);
    auto encoder = std::dynamic_pointer_cast<models::EncoderModelImpl>(loaded.model);
    if (!encoder)
      throw core::UserError(
          fmt::format("bench forward measures encoders; {} is a {} model", dir, loaded.family()));
    encoder->eval();
    models.push_back(encoder);
  }
  c10::InferenceMode inference;
  torch::manual_seed(0);
  for (const auto& [batch, length] : settings) {
    for (int64_t round = 0; round < o.rounds; ++round) {
      for (size_t m = 0; m < models.size(); ++m) {
        for (size_t c = 0; c < choices.size(); ++c) {
          kernels::set_sparse_kernels_mode(choices[c]);
          auto& model = *models[m];
          torch::Tensor tokens =
              torch::randint(4, model.config().vocab_size, {batch, length}, torch::kInt64);
          torch::Tensor segments = torch::zeros_like(tokens);
          const double seconds =
              time_steps([&] { model.encode(tokens, segments); }, o.warmup, o.steps);
          nlohmann::json line = {{"bench", "forward"},
                                 {"model", o.models[m]},
                                 {"sparse_kernels", kernels::sparse_kernels_name(choices[c])},
                                 {"batch", batch},
                                 {"length", length},
                                 {"round", round},
                                 {"ms_per_batch", 1000.0 * seconds / double(o.steps)},
                                 {"tokens_per_second", double(batch * length * o.steps) / seconds}};
          std::cout << line.dump() << std::endl;
        }
      }
    }
  }
}

}  // namespace

void add_bench_forward(CLI::App* bench) {
  auto o = std::make_shared<ForwardBenchOptions>();
  auto* cmd = bench->add_subcommand(
      "forward", "encoder forward latency of checkpoints side by side, by batch and length");
  cmd->add_option("--models", o->models, "encoder checkpoints to compare")
      ->required()
      ->delimiter(',');
  cmd->add_option("--settings", o->settings, "BATCHxLENGTH settings")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--sparse-kernels", o->sparse_kernels,
                  "which products take the sparse kernel, each in turn: 0 (none), auto (the "
                  "measured switch), always (every matrix at least half zeros); default: "
                  "SLIMFORMER_SPARSE_KERNELS's")
      ->delimiter(',');
  cmd->add_option("--rounds", o->rounds, "rounds; models and kernel choices alternate within each")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--steps", o->steps, "timed forward passes per model, setting and round")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed passes first")->capture_default_str();
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  add_recipe_flags(cmd);
  cmd->callback([o, common] {
    common->apply();
    bench_forward(*o);
  });
}

}  // namespace slimformer::tools
