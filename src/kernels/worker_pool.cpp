#include "slimformer/kernels/worker_pool.h"

#include <chrono>

namespace slimformer::kernels {

namespace {

// How long a worker spins for the next product before it sleeps.
constexpr auto kSpin = std::chrono::microseconds(50);

inline void pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

WorkerPool& WorkerPool::instance() {
  static WorkerPool pool;
  return pool;
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void WorkerPool::add_workers(int count) {
  while (static_cast<int>(workers_.size()) < count) {
    const int index = static_cast<int>(workers_.size()) + 1;
    workers_.emplace_back([this, index] { work(index); });
  }
}

void WorkerPool::work(int index) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t now = generation_.load(std::memory_order_acquire);
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (int i = 0; now == seen; ++i) {
      pause();
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) break;
      now = generation_.load(std::memory_order_acquire);
    }
    if (now == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      now = generation_.load();
    }
    seen = now;
    if (stop_) return;
    if (index < parts_) (*part_)(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void WorkerPool::run(int parts, const std::function<void(int)>& part) {
  std::unique_lock<std::mutex> running(run_mutex_, std::try_to_lock);
  if (parts <= 1 || !running.owns_lock()) {
    for (int i = 0; i < parts; ++i) part(i);
    return;
  }
  add_workers(parts - 1);
  part_ = &part;
  parts_ = parts;
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  part(0);
  for (int i = 0; pending_.load(std::memory_order_acquire) > 0; ++i)
    if (i > 4096) std::this_thread::yield(); else pause();
}

}  // namespace slimformer::kernels
