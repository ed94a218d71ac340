#include "slimformer/core/runtime.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "slimformer/core/error.h"

namespace slimformer::core {

namespace {

template <typename Fn>
Fn find_symbol(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, name));
}

}  // namespace

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.libtorch_version =
      fmt::format("{}.{}.{}", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH);
  // The first library in load order that defines sgemm_ is the one every matmul calls.
  if (void* sgemm = ::dlsym(RTLD_DEFAULT, "sgemm_")) {
    Dl_info where{};
    if (::dladdr(sgemm, &where) && where.dli_fname) {
      std::error_code ec;
      auto resolved = std::filesystem::canonical(where.dli_fname, ec);
      info.blas_library = ec ? where.dli_fname : resolved.string();
    }
  }
  info.blas_is_openblas = info.blas_library.find("openblas") != std::string::npos;
  if (auto get_config = find_symbol<char* (*)()>("openblas_get_config");
      get_config && info.blas_is_openblas)
    info.openblas_config = get_config();
  if (auto get_threads = find_symbol<int (*)()>("openblas_get_num_threads"))
    info.openblas_threads = get_threads();
  info.intra_op_threads = torch::get_num_threads();
  info.hardware_threads = static_cast<int>(std::thread::hardware_concurrency());
  info.cuda_available = torch::cuda::is_available();
  return info;
}

void configure_threads(int threads) {
  if (threads <= 0) return;
  if (auto set_threads = find_symbol<void (*)(int)>("openblas_set_num_threads"))
    set_threads(threads);
  torch::set_num_threads(1);
}

torch::Device parse_device(const std::string& name, const std::string& option) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw UserError(
          fmt::format("{} cuda: no CUDA device is available to this LibTorch build", option));
    return torch::kCUDA;
  }
  throw UserError(fmt::format("{} must be cpu or cuda, got {}", option, name));
}

double measure_matmul_gflops(int64_t n, int repeats) {
  torch::NoGradGuard no_grad;
  auto a = torch::randn({n, n}), b = torch::randn({n, n});
  torch::mm(a, b);  // warm-up: thread pools, page faults
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) torch::mm(a, b);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return 2.0 * n * n * n * repeats / seconds / 1e9;
}

}  // namespace slimformer::core
