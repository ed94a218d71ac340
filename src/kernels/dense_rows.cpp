#include "slimformer/kernels/dense_rows.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "cpu_clones.h"
#include "slimformer/kernels/sparse_matmul.h"
#include "slimformer/kernels/worker_pool.h"

namespace slimformer::kernels {
namespace {

constexpr int64_t kMostRows = 8;
// Below this many multiply-adds a product runs on the calling thread (as the sparse kernels do).
constexpr int64_t kParallelWork = 200000;

// Eight floats, loaded without alignment.
typedef float Lanes __attribute__((vector_size(32), aligned(4)));

// Outputs n .. n + O - 1 of y = x W^T + b for R rows of x: one pass over those outputs' weights
// with R x O sums of eight lanes each, added up at the end. O x R independent sums keep the
// multiply-add unit busy (each one waits for its previous result). Always inlined, so that it is
// compiled for the instruction set of the clone that calls it.
template <int R, int O>
__attribute__((always_inline)) inline void output_block(const float* x, const float* w,
                                                        const float* bias, float* y, int64_t in,
                                                        int64_t out, int64_t n) {
  Lanes acc[O][R];
  for (int o = 0; o < O; ++o)
    for (int r = 0; r < R; ++r) acc[o][r] = Lanes{};
  int64_t k = 0;
  for (; k + 8 <= in; k += 8) {
    Lanes weights[O];
    for (int o = 0; o < O; ++o) weights[o] = *reinterpret_cast<const Lanes*>(w + (n + o) * in + k);
    for (int r = 0; r < R; ++r) {
      const Lanes xs = *reinterpret_cast<const Lanes*>(x + r * in + k);
      for (int o = 0; o < O; ++o) acc[o][r] += weights[o] * xs;
    }
  }
  for (int o = 0; o < O; ++o) {
    const float* wn = w + (n + o) * in;
    for (int r = 0; r < R; ++r) {
      const Lanes& a = acc[o][r];
      float sum = ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
      for (int64_t t = k; t < in; ++t) sum += wn[t] * x[r * in + t];
      y[r * out + n + o] = sum + (bias ? bias[n + o] : 0.f);
    }
  }
}

// Outputs [begin, end) for R rows, in blocks of as many outputs as keep eight or so sums going.
template <int R>
SLIMFORMER_CPU_CLONES void outputs_of_rows(const float* x, const float* w, const float* bias,
                                           float* y, int64_t in, int64_t out, int64_t begin,
                                           int64_t end) {
  constexpr int O = R <= 2 ? 4 : R <= 4 ? 2 : 1;
  int64_t n = begin;
  for (; n + O <= end; n += O) output_block<R, O>(x, w, bias, y, in, out, n);
  for (; n < end; ++n) output_block<R, 1>(x, w, bias, y, in, out, n);
}

using OutputsOfRows = void (*)(const float*, const float*, const float*, float*, int64_t, int64_t,
                               int64_t, int64_t);

OutputsOfRows kernel_for(int64_t rows) {
  static const OutputsOfRows kernels[kMostRows] = {
      outputs_of_rows<1>, outputs_of_rows<2>, outputs_of_rows<3>, outputs_of_rows<4>,
      outputs_of_rows<5>, outputs_of_rows<6>, outputs_of_rows<7>, outputs_of_rows<8>};
  return kernels[rows - 1];
}

}  // namespace

bool few_rows_pay(int64_t rows, int64_t in) {
  static const bool enabled = [] {
    const char* value = std::getenv("SLIMFORMER_FEW_ROWS");
    return !(value && std::string(value) == "0");
  }();
  return enabled && rows >= 2 && rows <= kMostRows && in >= 256;
}

torch::Tensor few_rows_linear(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias) {
  const int64_t rows = x.size(0), in = x.size(1), out = weight.size(0);
  if (rows < 1 || rows > kMostRows || weight.size(1) != in)
    throw std::invalid_argument("few_rows_linear: " + std::to_string(rows) + " rows of " +
                                std::to_string(in) + " features for a [" + std::to_string(out) +
                                ", " + std::to_string(weight.size(1)) + "] matrix");
  auto xc = x.contiguous();
  auto wc = weight.contiguous();
  auto bc = bias.defined() ? bias.contiguous() : bias;
  auto y = torch::empty({rows, out}, x.options());
  const float* xp = xc.data_ptr<float>();
  const float* wp = wc.data_ptr<float>();
  const float* bp = bc.defined() ? bc.data_ptr<float>() : nullptr;
  float* yp = y.data_ptr<float>();
  const OutputsOfRows kernel = kernel_for(rows);
  const int threads =
      rows * in * out < kParallelWork ? 1 : int(std::min<int64_t>(sparse_threads(), out));
  if (threads <= 1) {
    kernel(xp, wp, bp, yp, in, out, 0, out);
    return y;
  }
  WorkerPool::instance().run(threads, [&](int t) {
    kernel(xp, wp, bp, yp, in, out, out * t / threads, out * (t + 1) / threads);
  });
  return y;
}

}  // namespace slimformer::kernels
