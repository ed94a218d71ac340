// Sparse weight x dense input products for pruned linear layers, written here because the
// LibTorch this project builds on has no fast one on the CPU (its CSR product is many times
// slower than dense without MKL, and it has no sparse matrix-vector path).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace slimformer::kernels {

// A [rows, cols] float32 matrix in compressed sparse rows. Column indices are 16-bit (read as
// unsigned) when cols <= 65536, which is every matrix of these models: fewer bytes per nonzero
// is most of what makes a sparse product faster than a dense one.
struct CsrMatrix {
  int64_t rows = 0, cols = 0;
  torch::Tensor row_offsets;  // int32 [rows + 1]
  torch::Tensor columns;      // int16 (unsigned 16-bit) or int32 [nnz], ascending within a row
  torch::Tensor values;       // float32 [nnz]

  static CsrMatrix from_dense(const torch::Tensor& dense);
  torch::Tensor to_dense() const;
  int64_t nnz() const { return values.defined() ? values.numel() : 0; }
  double sparsity() const;
  bool narrow_columns() const { return columns.scalar_type() == torch::kInt16; }
};

// Which products take the sparse kernel, from SLIMFORMER_SPARSE_KERNELS in the environment
// (read once) unless set_sparse_kernels_mode chose: "0" none (the same weights through the dense
// product), "auto" or "1" (the default) those where the measured switch below expects a gain,
// "always" every matrix with at least half its weights zero, whatever the batch. Benchmarks run one
// model under all three to measure what the switch chooses against both extremes
// (bench/sparse_decode.sh). Another value throws.
enum class SparseKernels { off, automatic, always };
SparseKernels sparse_kernels_mode();
void set_sparse_kernels_mode(SparseKernels mode);
// "0", "auto", "1" or "always"; std::invalid_argument for anything else.
SparseKernels parse_sparse_kernels(const std::string& text);
std::string sparse_kernels_name(SparseKernels mode);  // "0", "auto" or "always"

// Whether the sparse product beats the dense one (OpenBLAS) for a matrix with this zero fraction
// and an input of `rows` rows: the crossovers `slimformer bench sparse` measured (docs/RESULTS.md).
bool sparse_pays(double sparsity, int64_t rows);

// Threads the sparse products use (OpenMP); 0 or less: every hardware thread.
void set_sparse_threads(int threads);
int sparse_threads();

// x W^T + b for x [..., cols] (float32), W sparse, b [rows] or undefined: [..., rows].
torch::Tensor sparse_linear(const torch::Tensor& x, const CsrMatrix& weight,
                            const torch::Tensor& bias);

}  // namespace slimformer::kernels
