#include <gtest/gtest.h>
#include <torch/torch.h>

#include "slimformer/kernels/sparse_matmul.h"

namespace slimformer {
namespace {

torch::Tensor random_sparse(int64_t rows, int64_t cols, double sparsity) {
  auto w = torch::randn({rows, cols});
  return w * (torch::rand({rows, cols}) >= sparsity).to(torch::kFloat32);
}

void expect_same_product(const torch::Tensor& w, const torch::Tensor& x, bool with_bias) {
  auto bias = with_bias ? torch::randn({w.size(0)}) : torch::Tensor();
  auto csr = kernels::CsrMatrix::from_dense(w);
  auto expected = torch::linear(x, w, bias);
  auto got = kernels::sparse_linear(x, csr, bias);
  ASSERT_EQ(got.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(got, expected, 1e-4, 1e-4))
      << "shape " << w.sizes() << " input " << x.sizes() << " max difference "
      << (got - expected).abs().max().item<float>();
}

TEST(SparseKernel, EqualsTheDenseProductOnRandomShapesAndSparsities) {
  torch::manual_seed(3);
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{1, 1},   {7, 5},     {64, 33},
                                                           {257, 96}, {96, 1030}, {300, 70}};
  for (auto [rows, cols] : shapes)
    for (double sparsity : {0.0, 0.5, 0.9, 0.99})
      for (int64_t batch : {1, 2, 3, 4, 5, 8, 13, 32, 45})
        expect_same_product(random_sparse(rows, cols, sparsity), torch::randn({batch, cols}),
                            batch % 2 == 1);
}

TEST(SparseKernel, HandlesEmptyRowsAllZeroMatricesAndLeadingDimensions) {
  torch::manual_seed(4);
  auto w = random_sparse(40, 24, 0.7);
  w.slice(0, 10, 20).zero_();  // ten empty rows in the middle
  w.select(0, 39).zero_();     // and the last
  expect_same_product(w, torch::randn({6, 24}), true);
  expect_same_product(w, torch::randn({1, 24}), false);
  expect_same_product(torch::zeros({16, 8}), torch::randn({3, 8}), true);
  expect_same_product(torch::zeros({16, 8}), torch::randn({1, 8}), false);
  // [batch, length, features] as the models call it.
  auto csr = kernels::CsrMatrix::from_dense(w);
  auto x = torch::randn({2, 3, 24});
  EXPECT_TRUE(torch::allclose(kernels::sparse_linear(x, csr, {}), torch::linear(x, w), 1e-4, 1e-4));
}

TEST(SparseKernel, StoresColumnsInSixteenBitsUpTo65536AndRoundTrips) {
  torch::manual_seed(5);
  auto narrow = random_sparse(3, 65536, 0.999);
  narrow[0][65535] = 2.5;  // the last column, stored in int16's negative half
  auto csr = kernels::CsrMatrix::from_dense(narrow);
  EXPECT_TRUE(csr.narrow_columns());
  EXPECT_TRUE(torch::equal(csr.to_dense(), narrow));
  expect_same_product(narrow, torch::randn({1, 65536}), false);
  expect_same_product(narrow, torch::randn({4, 65536}), true);
  auto wide = random_sparse(2, 65537, 0.999);
  auto wide_csr = kernels::CsrMatrix::from_dense(wide);
  EXPECT_FALSE(wide_csr.narrow_columns());
  EXPECT_TRUE(torch::equal(wide_csr.to_dense(), wide));
  EXPECT_NEAR(kernels::CsrMatrix::from_dense(torch::zeros({4, 5})).sparsity(), 1.0, 1e-12);
}

TEST(SparseKernel, GivesTheSameResultOnOneThreadAndOnSeveral) {
  torch::manual_seed(6);
  auto w = random_sparse(512, 256, 0.8);
  auto csr = kernels::CsrMatrix::from_dense(w);
  auto x = torch::randn({16, 256});
  kernels::set_sparse_threads(1);
  auto one = kernels::sparse_linear(x, csr, {});
  kernels::set_sparse_threads(2);
  auto two = kernels::sparse_linear(x, csr, {});
  kernels::set_sparse_threads(0);
  EXPECT_TRUE(torch::equal(one, two));  // each row is summed by one thread, in one order
}

TEST(SparseKernel, TheSettingChoosesWhichProductsTakeIt) {
  using kernels::SparseKernels;
  EXPECT_EQ(kernels::parse_sparse_kernels("0"), SparseKernels::off);
  EXPECT_EQ(kernels::parse_sparse_kernels("1"), SparseKernels::automatic);
  EXPECT_EQ(kernels::parse_sparse_kernels("auto"), SparseKernels::automatic);
  EXPECT_EQ(kernels::parse_sparse_kernels("always"), SparseKernels::always);
  EXPECT_THROW(kernels::parse_sparse_kernels("sometimes"), std::invalid_argument);
  for (auto mode : {SparseKernels::off, SparseKernels::automatic, SparseKernels::always})
    EXPECT_EQ(kernels::parse_sparse_kernels(kernels::sparse_kernels_name(mode)), mode);
  kernels::set_sparse_kernels_mode(SparseKernels::off);
  EXPECT_FALSE(kernels::sparse_pays(0.99, 1));
  kernels::set_sparse_kernels_mode(SparseKernels::always);
  EXPECT_TRUE(kernels::sparse_pays(0.6, 4096));
  EXPECT_FALSE(kernels::sparse_pays(0.4, 1));  // a compressed row would be larger than a dense one
  kernels::set_sparse_kernels_mode(SparseKernels::automatic);
  EXPECT_TRUE(kernels::sparse_pays(0.8, 1));
  EXPECT_TRUE(kernels::sparse_pays(58982.0 / 65536.0, 16));  // 256x256 pruned to 90%
  EXPECT_FALSE(kernels::sparse_pays(0.75, 1));
  EXPECT_FALSE(kernels::sparse_pays(0.85, 16));
  EXPECT_FALSE(kernels::sparse_pays(0.99, 4096));  // OpenBLAS's best case
}

}  // namespace
}  // namespace slimformer
