// What the program runs on: LibTorch version, the BLAS library that actually serves sgemm,
// thread settings and devices.
#pragma once

#include <torch/torch.h>

#include <string>

namespace slimformer::core {

struct RuntimeInfo {
  std::string libtorch_version;
  std::string blas_library;  // the shared object that provides sgemm_, resolved
  bool blas_is_openblas = false;
  std::string openblas_config;  // OpenBLAS's own build description, when it is OpenBLAS
  int openblas_threads = 0;
  int intra_op_threads = 0;
  int hardware_threads = 0;
  bool cuda_available = false;
};

RuntimeInfo runtime_info();

// `threads` > 0: OpenBLAS gets that many threads and LibTorch's intra-op pool one (measured
// fastest on small machines: both pools at full width oversubscribe). 0 keeps the defaults.
void configure_threads(int threads);

// "cpu" or "cuda"; a UserError naming `option` if CUDA is asked for but not available.
torch::Device parse_device(const std::string& name, const std::string& option = "--device");

// Seconds-long measurement of float32 matmul throughput at size n x n, in GFLOP/s.
double measure_matmul_gflops(int64_t n = 1024, int repeats = 10);

}  // namespace slimformer::core
