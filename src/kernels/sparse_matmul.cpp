#include "slimformer/kernels/sparse_matmul.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "cpu_clones.h"
#include "slimformer/kernels/worker_pool.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace slimformer::kernels {
namespace {

int configured_threads = 0;
std::atomic<int> chosen_mode{-1};  // set_sparse_kernels_mode's choice; -1: the environment's

// Below this many multiply-adds a product runs on the calling thread: waking another thread, which
// may be competing with OpenBLAS's spinning ones for a core, costs more than it saves.
constexpr int64_t kParallelWork = 200000;

// SLIMFORMER_SPARSE_KERNELS=always: from this zero fraction on, where a compressed row costs no
// more bytes than a dense one.
constexpr double kAlwaysFrom = 0.5;

// A matrix pruned to 90% keeps a whole number of weights: 256x256 has 58,982 zeros, 89.9997%.
constexpr double kRounding = 1e-3;

// Inputs of at most this many rows take the matrix-vector kernel row by row.
constexpr int64_t kVectorRows = 2;

inline int64_t column_of(int16_t c) { return static_cast<uint16_t>(c); }
inline int64_t column_of(int32_t c) { return c; }

template <typename Index>
struct CsrView {
  const int32_t* offsets;
  const Index* columns;
  const float* values;
};

// Rows [begin, end) of y = W x + b. Four accumulators keep four loads in flight.
template <typename Index>
void matrix_vector_rows(CsrView<Index> w, const float* x, const float* bias, float* y,
                        int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    int64_t j = w.offsets[r];
    const int64_t stop = w.offsets[r + 1];
    float a0 = 0.f, a1 = 0.f, a2 = 0.f, a3 = 0.f;
    for (; j + 4 <= stop; j += 4) {
      a0 += w.values[j] * x[column_of(w.columns[j])];
      a1 += w.values[j + 1] * x[column_of(w.columns[j + 1])];
      a2 += w.values[j + 2] * x[column_of(w.columns[j + 2])];
      a3 += w.values[j + 3] * x[column_of(w.columns[j + 3])];
    }
    for (; j < stop; ++j) a0 += w.values[j] * x[column_of(w.columns[j])];
    y[r] = ((a0 + a1) + (a2 + a3)) + (bias ? bias[r] : 0.f);
  }
}

#if defined(__x86_64__)
// The same with AVX2: eight nonzeros per step, their inputs gathered in one instruction.
__attribute__((target("avx2,fma"))) void matrix_vector_rows_avx2(
    CsrView<int16_t> w, const float* x, const float* bias, float* y, int64_t begin,
    int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    int64_t j = w.offsets[r];
    const int64_t stop = w.offsets[r + 1];
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (; j + 16 <= stop; j += 16) {
      const __m256i c0 = _mm256_cvtepu16_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.columns + j)));
      const __m256i c1 = _mm256_cvtepu16_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.columns + j + 8)));
      acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w.values + j), _mm256_i32gather_ps(x, c0, 4), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(w.values + j + 8), _mm256_i32gather_ps(x, c1, 4),
                             acc1);
    }
    for (; j + 8 <= stop; j += 8) {
      const __m256i c0 = _mm256_cvtepu16_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.columns + j)));
      acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w.values + j), _mm256_i32gather_ps(x, c0, 4), acc0);
    }
    acc0 = _mm256_add_ps(acc0, acc1);
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    float total = _mm_cvtss_f32(sum);
    for (; j < stop; ++j) total += w.values[j] * x[column_of(w.columns[j])];
    y[r] = total + (bias ? bias[r] : 0.f);
  }
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}
#endif

// Eight floats, loaded and stored without alignment.
typedef float Lanes __attribute__((vector_size(32), aligned(4)));

// Row r of yt = W xt + b over all `n` (a multiple of 8) columns of xt, the input transposed
// ([cols, n]): each nonzero scales one contiguous input row; Blocks x 8 sums stay in registers.
template <int Blocks, typename Index>
inline void matrix_row(CsrView<Index> w, int64_t r, const float* xt, int64_t n, int64_t n0,
                       float b, float* yt) {
  Lanes acc[Blocks];
  for (int k = 0; k < Blocks; ++k) acc[k] = Lanes{} + b;
  for (int64_t j = w.offsets[r], stop = w.offsets[r + 1]; j < stop; ++j) {
    const Lanes v = Lanes{} + w.values[j];
    const Lanes* xr = reinterpret_cast<const Lanes*>(xt + column_of(w.columns[j]) * n + n0);
    for (int k = 0; k < Blocks; ++k) acc[k] += v * xr[k];
  }
  Lanes* out = reinterpret_cast<Lanes*>(yt + r * n + n0);
  for (int k = 0; k < Blocks; ++k) out[k] = acc[k];
}

template <typename Index>
SLIMFORMER_CPU_CLONES void matrix_matrix_rows(CsrView<Index> w, const float* xt, int64_t n,
                                              const float* bias, float* yt, int64_t begin,
                                              int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const float b = bias ? bias[r] : 0.f;
    int64_t n0 = 0;
    for (; n0 + 32 <= n; n0 += 32) matrix_row<4>(w, r, xt, n, n0, b, yt);
    for (; n0 + 16 <= n; n0 += 16) matrix_row<2>(w, r, xt, n, n0, b, yt);
    for (; n0 < n; n0 += 8) matrix_row<1>(w, r, xt, n, n0, b, yt);
  }
}

// Runs rows(begin, end) over the matrix's rows, split so that each thread gets about the same
// number of nonzeros (pruned rows are not evenly spread).
template <typename Rows>
void for_row_ranges(const int32_t* offsets, int64_t rows, int64_t work, const Rows& run_rows) {
  const int threads = work < kParallelWork ? 1 : static_cast<int>(std::min<int64_t>(
                                                     sparse_threads(), std::max<int64_t>(rows, 1)));
  if (threads <= 1) {
    run_rows(0, rows);
    return;
  }
  const int64_t nnz = offsets[rows];
  auto row_at = [&](int64_t t) -> int64_t {
    if (t == 0) return 0;
    if (t == threads) return rows;
    return std::lower_bound(offsets, offsets + rows + 1, nnz * t / threads) - offsets;
  };
  WorkerPool::instance().run(threads, [&](int t) {
    const int64_t begin = std::min(row_at(t), rows), end = std::min(row_at(t + 1), rows);
    if (begin < end) run_rows(begin, end);
  });
}

template <typename Index>
torch::Tensor product(const torch::Tensor& x2d, const CsrMatrix& weight,
                      const torch::Tensor& bias) {
  const CsrView<Index> w{weight.row_offsets.data_ptr<int32_t>(), weight.columns.data_ptr<Index>(),
                         weight.values.data_ptr<float>()};
  const float* b = bias.defined() ? bias.data_ptr<float>() : nullptr;
  const int64_t n = x2d.size(0);
  // Up to kVectorRows input rows, one matrix-vector product each: for two rows the several-row
  // kernel's transposes and padding to eight columns cost more than they save (`bench sparse`,
  // docs/RESULTS.md: 1.3-1.7x faster this way at 90-95%; at three rows no faster).
  if (n <= kVectorRows) {
    auto y = torch::empty({n, weight.rows}, x2d.options());
    const float* x = x2d.data_ptr<float>();
    float* out = y.data_ptr<float>();
    for_row_ranges(w.offsets, weight.rows, weight.nnz() * n, [&](int64_t begin, int64_t end) {
      for (int64_t i = 0; i < n; ++i) {
        const float* xi = x + i * weight.cols;
        float* yi = out + i * weight.rows;
#if defined(__x86_64__)
        if constexpr (std::is_same_v<Index, int16_t>)
          if (has_avx2()) {
            matrix_vector_rows_avx2(w, xi, b, yi, begin, end);
            continue;
          }
#endif
        matrix_vector_rows(w, xi, b, yi, begin, end);
      }
    });
    return y;
  }
  // The input transposed, its rows padded to a multiple of eight with zeros.
  const int64_t padded = (n + 7) / 8 * 8;
  auto xt = torch::zeros({weight.cols, padded}, x2d.options());
  xt.narrow(1, 0, n).copy_(x2d.t());
  auto yt = torch::empty({weight.rows, padded}, x2d.options());
  const float* xt_data = xt.data_ptr<float>();
  float* out = yt.data_ptr<float>();
  for_row_ranges(w.offsets, weight.rows, weight.nnz() * n, [&](int64_t begin, int64_t end) {
    matrix_matrix_rows(w, xt_data, padded, b, out, begin, end);
  });
  return yt.narrow(1, 0, n).t().contiguous();
}

}  // namespace

CsrMatrix CsrMatrix::from_dense(const torch::Tensor& dense) {
  if (dense.dim() != 2)
    throw std::invalid_argument("CsrMatrix::from_dense needs a matrix, got " +
                      std::to_string(dense.dim()) + " dimensions");
  auto matrix = dense.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  CsrMatrix csr;
  csr.rows = matrix.size(0);
  csr.cols = matrix.size(1);
  auto nonzero = matrix.ne(0);
  csr.row_offsets = torch::zeros({csr.rows + 1}, torch::kInt32);
  csr.row_offsets.slice(0, 1).copy_(nonzero.sum(1).cumsum(0));
  auto positions = nonzero.nonzero();  // [nnz, 2], row-major order
  csr.values = matrix.index({positions.select(1, 0), positions.select(1, 1)}).contiguous();
  const auto index_type = csr.cols <= 65536 ? torch::kInt16 : torch::kInt32;
  // Columns up to 65535 wrap into int16's negative half and are read back as unsigned.
  csr.columns = positions.select(1, 1).to(torch::kInt32).to(index_type).contiguous();
  return csr;
}

torch::Tensor CsrMatrix::to_dense() const {
  auto dense = torch::zeros({rows, cols}, torch::kFloat32);
  if (nnz() == 0) return dense;
  auto counts = (row_offsets.slice(0, 1) - row_offsets.slice(0, 0, rows)).to(torch::kLong);
  auto row_index = torch::repeat_interleave(torch::arange(rows), counts);
  auto column_index = columns.to(torch::kInt32);
  if (narrow_columns()) column_index = column_index.bitwise_and(0xFFFF);
  dense.index_put_({row_index, column_index.to(torch::kLong)}, values);
  return dense;
}

double CsrMatrix::sparsity() const {
  const double total = static_cast<double>(rows) * static_cast<double>(cols);
  return total > 0 ? 1.0 - static_cast<double>(nnz()) / total : 0.0;
}

SparseKernels parse_sparse_kernels(const std::string& text) {
  if (text == "0") return SparseKernels::off;
  if (text == "1" || text == "auto") return SparseKernels::automatic;
  if (text == "always") return SparseKernels::always;
  throw std::invalid_argument("must be 0, auto (or 1) or always, not '" + text + "'");
}

std::string sparse_kernels_name(SparseKernels mode) {
  switch (mode) {
    case SparseKernels::off:
      return "0";
    case SparseKernels::always:
      return "always";
    case SparseKernels::automatic:
      break;
  }
  return "auto";
}

SparseKernels sparse_kernels_mode() {
  const int chosen = chosen_mode.load(std::memory_order_relaxed);
  if (chosen >= 0) return static_cast<SparseKernels>(chosen);
  static const SparseKernels from_environment = [] {
    const char* value = std::getenv("SLIMFORMER_SPARSE_KERNELS");
    try {
      return parse_sparse_kernels(value ? value : "auto");
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument(std::string("SLIMFORMER_SPARSE_KERNELS ") + error.what());
    }
  }();
  return from_environment;
}

void set_sparse_kernels_mode(SparseKernels mode) {
  chosen_mode.store(static_cast<int>(mode), std::memory_order_relaxed);
}

// Settled by whole models, not by one matrix (docs/RESULTS.md, "Which products take the kernel"):
// the translation model decoding (bench/sparse_decode.sh, greedy and beam 4), the encoder's
// forward (bench forward) and stories260K generating, each pruned to 80% and 90% and run under
// 0, auto and always. A matrix alone in cache (bench sparse, warm) loses at one row below 90%,
// but inside a model, where the other weights evict it, 80% gained 1.09-1.34x at 1-4 rows. At 16
// rows (a short encoder input) 80% lost (0.77x) and 90% broke even; at 128 rows 90% gained
// 1.17x. Past 256 rows the FFN shapes win only from 95% up to 512 rows and lose beyond
// (0.45-0.96x at 1,024 and 4,096 rows, even at 95%: OpenBLAS's best case).
bool sparse_pays(double sparsity, int64_t rows) {
  switch (sparse_kernels_mode()) {
    case SparseKernels::off:
      return false;
    case SparseKernels::always:
      return sparsity >= kAlwaysFrom - kRounding;
    case SparseKernels::automatic:
      break;
  }
  const double needed = rows <= 8 ? 0.8 : rows <= 256 ? 0.9 : 0.95;
  return rows <= 512 && sparsity >= needed - kRounding;
}

void set_sparse_threads(int threads) { configured_threads = threads; }

int sparse_threads() {
  if (configured_threads > 0) return configured_threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

torch::Tensor sparse_linear(const torch::Tensor& x, const CsrMatrix& weight,
                            const torch::Tensor& bias) {
  if (x.size(-1) != weight.cols)
    throw std::invalid_argument("sparse_linear: input has " + std::to_string(x.size(-1)) +
                      " features, the matrix " + std::to_string(weight.cols));
  auto x2d = x.reshape({-1, weight.cols}).to(torch::kFloat32).contiguous();
  auto bias32 = bias.defined() ? bias.to(torch::kFloat32).contiguous() : bias;
  auto y = weight.narrow_columns() ? product<int16_t>(x2d, weight, bias32)
                                   : product<int32_t>(x2d, weight, bias32);
  auto sizes = x.sizes().vec();
  sizes.back() = weight.rows;
  return y.view(sizes).to(x.scalar_type());
}

}  // namespace slimformer::kernels
