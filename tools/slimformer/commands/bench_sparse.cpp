// slimformer bench sparse: the sparse kernel (kernels/sparse_matmul.h) beside the dense product
// LibTorch computes (OpenBLAS), for matrices of given shapes pruned by magnitude to given
// sparsities, at given batch sizes, weights in cache (one matrix used again and again) and out of
// it (a ring of copies larger than the last-level cache). Dense and sparse alternate round by
// round; each JSON line gives both medians, the ratio and the largest difference of the outputs.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/kernels/sparse_matmul.h"
#include "slimformer/nn/linear.h"

namespace slimformer::tools {

namespace {

struct SparseBenchOptions {
  std::vector<std::string> shapes = {"3072x768", "768x3072", "1024x256"};
  std::vector<double> sparsities = {0.5, 0.7, 0.8, 0.9, 0.95};
  std::vector<int64_t> batches = {1, 8, 32, 128};
  std::vector<std::string> caches = {"warm", "cold"};
  int64_t rounds = 5;
  double round_ms = 20;   // each round times calls for about this long
  int64_t cold_mb = 256;  // dense bytes in the ring of copies for "cold"
};

// Magnitude pruning of a random matrix: the smallest |w| set to zero.
torch::Tensor pruned_matrix(int64_t rows, int64_t cols, double sparsity) {
  auto w = torch::randn({rows, cols}) / std::sqrt(double(cols));
  const int64_t drop = static_cast<int64_t>(sparsity * double(w.numel()));
  if (drop > 0) {
    auto order = w.abs().reshape(-1).argsort();
    w.view(-1).index_fill_(0, order.slice(0, 0, drop), 0.0);
  }
  return w;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void bench_sparse(const SparseBenchOptions& o) {
  torch::NoGradGuard no_grad;
  c10::InferenceMode inference;
  using Clock = std::chrono::steady_clock;
  torch::manual_seed(0);
  for (const auto& shape : o.shapes) {
    const auto [rows, cols] = parse_pair(shape, "--shapes", "ROWSxCOLS", "3072x768");
    for (double sparsity : o.sparsities) {
      if (sparsity < 0 || sparsity >= 1)
        throw core::UserError(fmt::format("--sparsities {}: must be in [0, 1)", sparsity));
      const auto weight = pruned_matrix(rows, cols, sparsity);
      const auto bias = torch::randn({rows});
      for (const auto& cache : o.caches) {
        if (cache != "warm" && cache != "cold")
          throw core::UserError(fmt::format("--caches {}: must be warm or cold", cache));
        const int64_t dense_bytes = rows * cols * 4;
        const int64_t copies =
            cache == "warm" ? 1 : std::max<int64_t>(2, o.cold_mb * (1 << 20) / dense_bytes);
        std::vector<torch::Tensor> dense(copies);
        std::vector<kernels::CsrMatrix> sparse(copies);
        for (int64_t c = 0; c < copies; ++c) {
          dense[c] = weight.clone();
          sparse[c] = kernels::CsrMatrix::from_dense(weight);
        }
        for (int64_t batch : o.batches) {
          const auto x = torch::randn({batch, cols});
          const double difference =
              (nn::dense_linear(x, weight, bias) - kernels::sparse_linear(x, sparse[0], bias))
                  .abs()
                  .max()
                  .item<double>();
          int64_t next = 0;
          auto run_dense = [&] { nn::dense_linear(x, dense[next++ % copies], bias); };
          auto run_sparse = [&] { kernels::sparse_linear(x, sparse[next++ % copies], bias); };
          // Calls per round, from one timed call of the dense product.
          auto start = Clock::now();
          run_dense();
          const double once = std::chrono::duration<double>(Clock::now() - start).count();
          const int64_t calls =
              std::clamp<int64_t>(int64_t(o.round_ms / 1000.0 / std::max(once, 1e-7)), 3, 200000);
          auto time_calls = [&](const std::function<void()>& call) {
            return 1e6 * time_steps(call, /*warmup=*/0, calls) / double(calls);
          };
          time_calls(run_dense);
          time_calls(run_sparse);  // warm-up of both
          std::vector<double> dense_us, sparse_us;
          for (int64_t round = 0; round < o.rounds; ++round) {
            dense_us.push_back(time_calls(run_dense));
            sparse_us.push_back(time_calls(run_sparse));
          }
          const double d = median(dense_us), s = median(sparse_us);
          const auto& csr = sparse[0];
          const int64_t sparse_bytes = csr.nnz() * (csr.narrow_columns() ? 6 : 8) + (rows + 1) * 4;
          nlohmann::json line = {{"bench", "sparse_linear"},
                                 {"rows", rows},
                                 {"cols", cols},
                                 {"sparsity", std::round(csr.sparsity() * 1e4) / 1e4},
                                 {"batch", batch},
                                 {"cache", cache},
                                 {"dense_us", std::round(d * 100) / 100},
                                 {"sparse_us", std::round(s * 100) / 100},
                                 {"speedup", std::round(d / s * 1000) / 1000},
                                 {"dense_bytes", dense_bytes},
                                 {"sparse_bytes", sparse_bytes},
                                 {"threads", kernels::sparse_threads()},
                                 {"max_difference", difference}};
          std::cout << line.dump() << std::endl;
        }
      }
    }
  }
}

}  // namespace

void add_bench_sparse(CLI::App* bench) {
  auto* cmd = bench->add_subcommand(
      "sparse", "the sparse kernel beside the dense product, one JSON line per setting");
  auto o = std::make_shared<SparseBenchOptions>();
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("--shapes", o->shapes, "matrix shapes ROWSxCOLS (out x in)")
      ->capture_default_str();
  cmd->add_option("--sparsities", o->sparsities, "fractions of zero weights, each in [0, 1)")
      ->capture_default_str();
  cmd->add_option("--batches", o->batches, "input rows per product")->capture_default_str();
  cmd->add_option("--caches", o->caches, "warm (one matrix) and/or cold (a ring of copies)")
      ->capture_default_str();
  cmd->add_option("--rounds", o->rounds, "alternating rounds; medians are reported")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--round-ms", o->round_ms, "time per round and implementation")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--cold-mb", o->cold_mb, "dense megabytes in the cold ring")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  common->add_to(cmd);
  add_recipe_flags(cmd);
  cmd->callback([o, common] {
    common->apply();
    bench_sparse(*o);
  });
}

}  // namespace slimformer::tools
