// x W^T + b for a few rows of x, W a dense float32 [out, in] matrix: each weight is read once and
// multiplied with every row while it sits in a register. A BLAS matrix product first copies the
// whole matrix into packed panels, which is most of its cost when the rows are few (beam search
// over one sentence: a row per beam); one row is a matrix-vector product, which BLAS does well.
#pragma once

#include <torch/torch.h>

namespace slimformer::kernels {

// Whether `rows` rows of `in` features take the few-row product: 2 to 8 rows of at least 256
// features (on stories260K's 64- and 172-wide layers it gained nothing, 0.88-0.99x; on the
// translation model's 256- and 1024-wide ones beam search ran 1.3-2x faster); off when SLIMFORMER_FEW_ROWS=0, for
// benchmarks that compare it with the BLAS product (bench/few_rows.sh). One row stays a BLAS
// matrix-vector product, which measured 1.3-1.6x faster than this kernel with one row.
bool few_rows_pay(int64_t rows, int64_t in);

// x [rows, in] float32 (rows <= 8), weight [out, in] float32, bias [out] or undefined:
// [rows, out].
torch::Tensor few_rows_linear(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias);

}  // namespace slimformer::kernels
