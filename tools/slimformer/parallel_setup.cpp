#include "parallel_setup.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "local_workers.h"
#include "slimformer/core/runtime.h"

namespace slimformer::tools {

namespace fs = std::filesystem;

void add_data_parallel_options(CommandOptions& options) {
  options.add("parallel.nproc", 1,
              "run on N processes on this machine (training: each update's batches dealt out "
              "among them, an update then holding update_freq x N batches)",
              "--nproc");
  options.add("parallel.world_size", 1,
              "workers of a group spread over several machines (each started with its --rank)",
              "--world-size");
  options.add("parallel.rank", 0, "this worker's place in the group; 0 writes the results",
              "--rank");
  options.add("parallel.master_addr", "127.0.0.1", "the host of worker 0 (the rendezvous)",
              "--master-addr");
  options.add("parallel.master_port", 29500, "worker 0's rendezvous port", "--master-port");
  options.add("parallel.timeout", 1800,
              "seconds a worker waits for a silent one before the run stops",
              "--collective-timeout");
}

int share_cores(const CommonOptions& common, int64_t processes) {
  const int threads = common.threads > 0
                          ? common.threads
                          : std::max(1, int(std::thread::hardware_concurrency()) / int(processes));
  core::configure_threads(threads);
  return threads;
}

train::DataParallelOptions data_parallel_from_settings(const core::Settings& s,
                                                       const CommonOptions& common,
                                                       const fs::path& output) {
  train::DataParallelOptions dp;
  const int64_t nproc = s.get_int_at_least("parallel.nproc", 1);
  dp.world_size = s.get_int_at_least("parallel.world_size", 1);
  dp.rank = s.get_int_at_least("parallel.rank", 0);
  dp.master_addr = s.get_string("parallel.master_addr");
  dp.master_port = s.get_int("parallel.master_port");
  dp.timeout_seconds = s.get_int("parallel.timeout");
  if (nproc > 1 && dp.world_size > 1)
    s.fail("parallel.nproc",
           "starts a group on this machine; --world-size joins one across machines: give one");
  if (nproc > 1) {
    if (!train::data_parallel_available())
      s.fail("parallel.nproc",
             "needs a build with Gloo's headers (apt-get install libgloo-dev, then configure "
             "again)");
    dp.world_size = nproc;
    if (s.origin("parallel.master_port") == "default") dp.master_port = free_local_port();
    dp.master_addr = "127.0.0.1";
    dp.check();
    start_local_workers(
        {nproc, dp.master_port, share_cores(common, nproc), output / "workers", ""});
    spdlog::info("running on {} processes (the others' output in {})", nproc,
                 (output / "workers").string());
    return dp;
  }
  dp.check();
  if (dp.enabled())
    spdlog::info("worker {} of {}: joining the group at {}:{}", dp.rank, dp.world_size,
                 dp.master_addr, dp.master_port);
  return dp;
}

}  // namespace slimformer::tools
