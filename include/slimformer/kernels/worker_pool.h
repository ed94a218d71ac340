// The threads the sparse kernels split their work over. LibTorch's intra-op pool is kept at one
// thread (core::configure_threads) and OpenMP's waiting threads spin long enough to starve
// OpenBLAS's on a small machine, so the kernels keep a pool of their own whose workers spin only
// briefly (a product is tens of microseconds) and then sleep.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace slimformer::kernels {

class WorkerPool {
 public:
  static WorkerPool& instance();
  ~WorkerPool();

  // Runs part(0) .. part(parts - 1), part 0 on the calling thread, and returns when all are done.
  // A call made while another runs (from another thread) runs its parts on the calling thread.
  void run(int parts, const std::function<void(int)>& part);

 private:
  WorkerPool() = default;
  void add_workers(int count);
  void work(int index);

  std::mutex run_mutex_;  // one run at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  const std::function<void(int)>* part_ = nullptr;
  int parts_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace slimformer::kernels
