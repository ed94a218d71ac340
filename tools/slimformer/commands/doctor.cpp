// slimformer doctor: what the program runs on, and how fast its matmul is here.
#include <fmt/format.h>

#include "commands.h"
#include "options.h"
#include "slimformer/core/runtime.h"
#include "slimformer/train/data_parallel.h"

namespace slimformer::tools {

void register_doctor(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "doctor", "LibTorch version, BLAS in use, threads, workers, measured matmul speed");
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  auto size = std::make_shared<int64_t>(1024);
  cmd->add_option("--size", *size, "matrix size for the matmul measurement")
      ->capture_default_str()
      ->check(CLI::Range(1, 16384));
  add_recipe_flags(cmd);
  cmd->callback([common, size] {
    common->apply();
    auto info = core::runtime_info();
    fmt::print("libtorch        {}\n", info.libtorch_version);
    fmt::print(
        "blas            {}{}\n", info.blas_library.empty() ? "(not found)" : info.blas_library,
        info.blas_is_openblas ? ""
                              : "  <- not OpenBLAS: matmul will be slow; run scripts/setup.sh");
    if (!info.openblas_config.empty()) fmt::print("openblas        {}\n", info.openblas_config);
    fmt::print("blas threads    {}\n", info.openblas_threads);
    fmt::print("intra-op        {}\n", info.intra_op_threads);
    fmt::print("hardware        {} threads\n", info.hardware_threads);
    fmt::print("cuda            {}\n", info.cuda_available ? "available" : "not available");
    fmt::print("several workers {}\n", train::data_parallel_available()
                                           ? "yes (c10d over Gloo: --nproc, --world-size)"
                                           : "no (configured without libgloo-dev)");
    fmt::print("matmul {}x{}  {:.1f} GFLOP/s (float32)\n", *size, *size,
               core::measure_matmul_gflops(*size));
  });
}

}  // namespace slimformer::tools
