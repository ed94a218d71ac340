// Magnitude weight pruning: which weights the thresholds pick, sparse storage in checkpoints,
// physical removal of dead neurons, and the sparse path of the linear layer.
#include "slimformer/methods/magnitude/magnitude_pruning.h"

#include <gtest/gtest.h>

#include "slimformer/kernels/sparse_matmul.h"
#include "slimformer/kernels/sparse_storage.h"
#include "slimformer/methods/magnitude/dead_neurons.h"
#include "slimformer/nn/feed_forward.h"
#include "slimformer/train/checkpoint.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

torch::Tensor translate_logits(models::Seq2SeqTransformer& model) {
  torch::NoGradGuard no_grad;
  model->eval();
  auto src = torch::tensor({{5, 9, 17, 33, 2}}), tgt = torch::tensor({{1, 40, 7, 12}});
  return model->forward(src, tgt);
}

TEST(MagnitudePruning, PerMatrixAndGlobalThresholdsPickTheRightWeights) {
  auto config = testing::tiny_config();
  models::Seq2SeqTransformer model(config);
  const std::string a = "encoder.layers.0.ffn.block.fc1.weight";
  const std::string b = "encoder.layers.0.ffn.block.fc2.weight";
  {
    torch::NoGradGuard no_grad;
    auto p = model->state();
    // a: 1, 2, ..., n (small); b: 100000 + 1, ... (large).
    p.at(a).copy_(torch::arange(1, p.at(a).numel() + 1).view(p.at(a).sizes()));
    p.at(b).copy_(100000 + torch::arange(1, p.at(b).numel() + 1).view(p.at(b).sizes()));
  }
  const std::vector<std::string> names = {a, b};
  auto per = methods::magnitude_masks(*model, names, 0.25, methods::PruningScope::kPerMatrix);
  // Per matrix: the first quarter of each (the smallest values) goes.
  for (const auto& name : names) {
    auto flat = per.at(name).reshape(-1);
    const int64_t n = flat.numel(), q = n / 4;
    EXPECT_FALSE(flat.slice(0, 0, q).any().item<bool>()) << name;
    EXPECT_TRUE(flat.slice(0, q).all().item<bool>()) << name;
  }
  // Global: a quarter of both together, all of it from `a` (it holds the smallest half).
  auto global = methods::magnitude_masks(*model, names, 0.25, methods::PruningScope::kGlobal);
  const int64_t total = per.at(a).numel() + per.at(b).numel();
  EXPECT_EQ(global.at(a).logical_not().sum().item<int64_t>(), total / 4);
  EXPECT_TRUE(global.at(a).reshape(-1).slice(0, total / 4).all().item<bool>());
  EXPECT_TRUE(global.at(b).all().item<bool>());
  // The control drops the same count per matrix, elsewhere.
  auto random = methods::random_masks(*model, names, 0.25, 7);
  for (const auto& name : names)
    EXPECT_EQ(random.at(name).logical_not().sum().item<int64_t>(),
              per.at(name).logical_not().sum().item<int64_t>());
  EXPECT_FALSE(torch::equal(random.at(a), per.at(a)));
}

TEST(MagnitudePruning, ChoosesMatricesByFamilyAndPatternAndRefusesUnknownOnes) {
  models::Seq2SeqTransformer model(testing::tiny_config());
  auto all = methods::prunable_matrices(*model, true);
  auto without = methods::prunable_matrices(*model, false);
  EXPECT_GT(all.size(), without.size());
  for (const auto& name : without) EXPECT_EQ(name.find("embed"), std::string::npos) << name;
  for (const auto& name : all) EXPECT_EQ(name.find("norm"), std::string::npos) << name;
  auto ffn = methods::select_matrices(*model, {"decoder.layers.*.ffn.**"}, true);
  EXPECT_EQ(ffn.size(), 4u);  // fc1 and fc2 of two decoder layers
  testing::expect_user_error(
      [&] { methods::select_matrices(*model, {"decoder.layers.*.fnn.**"}, true); },
      "--matrices decoder.layers.*.fnn.**: matches no prunable matrix of this model (attention "
      "projections, feed-forward matrices, pooler, word embeddings), e.g. " +
          all.front());
  testing::expect_user_error([] { methods::check_sparsity(1.0, "--sparsity"); },
                             "--sparsity must be in [0, 1), got 1");
  testing::expect_user_error([] { methods::check_sparsity(-0.1, "--sparsity"); },
                             "--sparsity must be in [0, 1), got -0.1");
}

TEST(MagnitudePruning, ZeroSparsityLeavesTheModelAsItWas) {
  models::Seq2SeqTransformer model(testing::tiny_config());
  auto before = translate_logits(model);
  auto names = methods::prunable_matrices(*model, true);
  methods::apply_masks(*model, methods::magnitude_masks(*model, names, 0.0,
                                                        methods::PruningScope::kGlobal));
  EXPECT_TRUE(torch::equal(translate_logits(model), before));
}

TEST(MagnitudePruning, SparseCheckpointsAreSmallerAndReloadToTheSameOutputs) {
  testing::TempDir dir;
  auto config = testing::tiny_config(testing::small_vocab().size());
  models::Seq2SeqTransformer model(config);
  auto names = methods::prunable_matrices(*model, true);
  methods::apply_masks(*model, methods::magnitude_masks(*model, names, 0.9,
                                                        methods::PruningScope::kPerMatrix));
  auto expected = translate_logits(model);
  auto dense = model->copy_state();
  core::save_safetensors(dir / "dense.safetensors", dense);
  train::write_weights(dir / "sparse.safetensors", dense, torch::kFloat32);
  EXPECT_LT(std::filesystem::file_size(dir / "sparse.safetensors"),
            std::filesystem::file_size(dir / "dense.safetensors") / 2);
  core::Metadata metadata;
  auto stored = core::load_safetensors(dir / "sparse.safetensors", &metadata);
  EXPECT_TRUE(metadata.count(kernels::kSparseMetadataKey));
  EXPECT_TRUE(stored.count("encoder.layers.0.ffn.block.fc1.weight.csr_values"));
  auto back = train::read_weights(dir / "sparse.safetensors");
  for (const auto& [name, t] : dense) EXPECT_TRUE(torch::equal(back.at(name), t)) << name;
  models::Seq2SeqTransformer reloaded(config);
  reloaded->load_state(back, "sparse.safetensors");
  EXPECT_TRUE(torch::equal(translate_logits(reloaded), expected));
  // A damaged part is an error naming the file and the tensor.
  stored.at("encoder.layers.0.ffn.block.fc1.weight.csr_row_offsets").fill_(3);
  core::save_safetensors(dir / "bad.safetensors", stored, metadata);
  try {
    train::read_weights(dir / "bad.safetensors");
    ADD_FAILURE() << "expected a UserError";
  } catch (const core::UserError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.safetensors: sparse tensor "
                                         "encoder.layers.0.ffn.block.fc1.weight: row offsets"),
              std::string::npos)
        << e.what();
  }
}

TEST(MagnitudePruning, DeadNeuronsAreRemovedWithoutChangingOutputs) {
  for (const bool gated : {false, true}) {
    auto config = testing::tiny_config();
    config.ffn_gated = gated;
    config.activation_function = gated ? "silu" : "relu";
    models::Seq2SeqTransformer model(config);
    const std::string path = "encoder.layers.1.ffn";
    {
      torch::NoGradGuard no_grad;
      auto block = std::dynamic_pointer_cast<nn::FeedForwardImpl>(model->sublayer(path)->block());
      block->fc1->bias.uniform_(-0.5, 0.5);
      block->fc2->weight.select(1, 3).zero_();   // no output: contributes nothing
      block->fc1->weight.select(0, 5).zero_();   // no input: a constant, folded into the bias
      if (gated) block->fc3->weight.select(0, 5).zero_();
      block->fc1->weight.select(0, 6).zero_();   // input rows zero only in fc1 when gated
    }
    auto before = translate_logits(model);
    auto removed = methods::remove_dead_neurons(*model);
    ASSERT_EQ(removed.size(), 1u) << "gated " << gated;
    EXPECT_EQ(removed[0].path, path);
    EXPECT_EQ(removed[0].before, config.encoder_ffn_dim);
    // relu: neurons 3, 5, 6 go; gated (biases, so fc1 row 6 alone is not a constant): 3 and 5.
    EXPECT_EQ(removed[0].after, config.encoder_ffn_dim - (gated ? 2 : 3));
    EXPECT_TRUE(torch::allclose(translate_logits(model), before, 1e-5, 1e-5)) << "gated " << gated;
    EXPECT_EQ(model->config().blocks.at(path).options.at("hidden_dim"), removed[0].after);
  }
}

TEST(MagnitudePruning, TheLinearLayerUsesTheSparseKernelWithoutChangingResults) {
  torch::manual_seed(9);
  nn::Linear layer(96, 128);
  {
    torch::NoGradGuard no_grad;
    layer->weight.mul_((torch::rand({128, 96}) > 0.9).to(torch::kFloat32));
    layer->bias.uniform_(-1, 1);
  }
  // Every choice of products (the switch, and both extremes) gives the dense product's result.
  for (auto mode : {kernels::SparseKernels::automatic, kernels::SparseKernels::always,
                    kernels::SparseKernels::off}) {
    kernels::set_sparse_kernels_mode(mode);
    for (int64_t rows : {1, 5, 40, 600}) {
      auto x = torch::randn({rows, 96});
      auto expected = torch::linear(x, layer->weight, layer->bias);
      c10::InferenceMode inference;
      EXPECT_TRUE(torch::allclose(layer->forward(x), expected, 1e-5, 1e-5))
          << rows << " rows, " << kernels::sparse_kernels_name(mode);
    }
  }
  kernels::set_sparse_kernels_mode(kernels::SparseKernels::automatic);
  // A weight changed in place is seen at once.
  {
    torch::NoGradGuard no_grad;
    layer->weight.mul_(2);
  }
  auto x = torch::randn({1, 96});
  auto expected = torch::linear(x, layer->weight, layer->bias);
  c10::InferenceMode inference;
  EXPECT_TRUE(torch::allclose(layer->forward(x), expected, 1e-5, 1e-5));
}

}  // namespace
}  // namespace slimformer
