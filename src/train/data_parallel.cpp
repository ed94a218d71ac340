#include "slimformer/train/data_parallel.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "slimformer/core/error.h"

#ifdef SLIMFORMER_HAVE_GLOO
#define USE_C10D_GLOO  // what LibTorch's own build defines to declare its Gloo process group
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace slimformer::train {

void DataParallelOptions::check() const {
  if (world_size < 1)
    throw core::UserError(fmt::format("--world-size must be at least 1, got {}", world_size));
  if (rank < 0 || rank >= world_size)
    throw core::UserError(fmt::format("--rank must be in [0, {}) for --world-size {}, got {}",
                                      world_size, world_size, rank));
  if (master_port < 1 || master_port > 65535)
    throw core::UserError(fmt::format("--master-port must be in [1, 65535], got {}", master_port));
  if (master_addr.empty())
    throw core::UserError("--master-addr must name the primary worker's host");
  if (timeout_seconds < 1)
    throw core::UserError(
        fmt::format("--collective-timeout must be at least 1 second, got {}", timeout_seconds));
}

void sum_values(Collective& workers, std::vector<double>& values) {
  std::vector<torch::Tensor> tensors{torch::tensor(values, torch::kFloat64)};
  workers.sum(tensors);
  const auto summed = tensors[0].accessor<double, 1>();
  for (size_t i = 0; i < values.size(); ++i) values[i] = summed[i];
}

std::vector<std::string> gather_strings(Collective& workers, const std::string& text) {
  // Collectives move tensors of one shape: the lengths first, then the texts padded to the
  // longest.
  const auto lengths = workers.gather(torch::tensor({int64_t(text.size())}, torch::kInt64));
  int64_t longest = 0;
  for (const auto& n : lengths) longest = std::max(longest, n.item<int64_t>());
  auto bytes = torch::zeros({std::max<int64_t>(longest, 1)}, torch::kUInt8);
  std::memcpy(bytes.data_ptr<uint8_t>(), text.data(), text.size());
  const auto all = workers.gather(bytes);
  std::vector<std::string> out;
  for (size_t r = 0; r < all.size(); ++r)
    out.emplace_back(reinterpret_cast<const char*>(all[r].data_ptr<uint8_t>()),
                     size_t(lengths[r].item<int64_t>()));
  return out;
}

#ifdef SLIMFORMER_HAVE_GLOO

bool data_parallel_available() { return true; }

namespace {

// Gradients are summed in buckets of about this many bytes: few enough collectives that their
// latency does not dominate, small enough that a bucket's copy stays cheap.
constexpr int64_t kBucketBytes = 32 << 20;

// c10d reports a failed connection on stderr through glog as well as in the exception it throws;
// the program's one-line error says it already. Debian's LibTorch logs through libglog, whose
// threshold is set here when it is loaded.
void quiet_c10d_logging() {
  if (auto* min_level = static_cast<int*>(dlsym(RTLD_DEFAULT, "_ZN3fLI17FLAGS_minloglevelE")))
    *min_level = std::max(*min_level, 3);  // FATAL only
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

// The network interface Gloo's connections use: GLOO_SOCKET_IFNAME's (as PyTorch reads it), the
// loopback for a group on one machine, otherwise the one this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
  if (const char* name = std::getenv("GLOO_SOCKET_IFNAME"); name && *name)
    return c10d::ProcessGroupGloo::createDeviceForInterface(name);
  if (is_loopback(master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

class GlooCollective final : public Collective {
 public:
  GlooCollective(c10::intrusive_ptr<c10d::ProcessGroupGloo> group, int64_t rank, int64_t world)
      : group_(std::move(group)), rank_(rank), world_(world) {}

  int64_t rank() const override { return rank_; }
  int64_t world_size() const override { return world_; }

  void sum(std::vector<torch::Tensor>& tensors) override {
    size_t begin = 0;
    while (begin < tensors.size()) {
      // A bucket: consecutive tensors of one type, up to kBucketBytes (at least one tensor).
      size_t end = begin;
      int64_t bytes = 0;
      while (end < tensors.size() && tensors[end].scalar_type() == tensors[begin].scalar_type() &&
             (end == begin || bytes + tensors[end].nbytes() <= size_t(kBucketBytes)))
        bytes += tensors[end++].nbytes();
      std::vector<torch::Tensor> flat;
      for (size_t i = begin; i < end; ++i) flat.push_back(tensors[i].reshape(-1));
      std::vector<torch::Tensor> bucket{torch::cat(flat)};
      run("sum", [&] { group_->allreduce(bucket)->wait(); });
      int64_t offset = 0;
      for (size_t i = begin; i < end; ++i) {
        const int64_t n = tensors[i].numel();
        tensors[i].copy_(bucket[0].narrow(0, offset, n).view_as(tensors[i]));
        offset += n;
      }
      begin = end;
    }
  }

  std::vector<torch::Tensor> gather(const torch::Tensor& tensor) override {
    std::vector<std::vector<torch::Tensor>> outputs(1);
    for (int64_t r = 0; r < world_; ++r) outputs[0].push_back(torch::empty_like(tensor));
    std::vector<torch::Tensor> inputs{tensor.contiguous()};
    run("gather", [&] { group_->allgather(outputs, inputs)->wait(); });
    return outputs[0];
  }

  void broadcast_from_primary(torch::Tensor& tensor) override {
    std::vector<torch::Tensor> tensors{tensor};
    run("broadcast", [&] { group_->broadcast(tensors)->wait(); });
  }

 private:
  template <typename F>
  void run(const char* what, F&& f) {
    try {
      f();
    } catch (const c10::Error& e) {
      throw WorkerLost(fmt::format("worker {}: the collective {} failed: {}", rank_, what,
                                   e.what_without_backtrace()));
    } catch (const std::exception& e) {
      throw WorkerLost(
          fmt::format("worker {}: the collective {} failed: {}", rank_, what, e.what()));
    }
  }

  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  int64_t rank_, world_;
};

}  // namespace

std::shared_ptr<Collective> Collective::join(const DataParallelOptions& o) {
  o.check();
  quiet_c10d_logging();
  // A lost peer must surface as Gloo's error, which names it, not kill this process: a write to a
  // socket whose peer has gone raises SIGPIPE, and Gloo's writes do not suppress it.
  std::signal(SIGPIPE, SIG_IGN);
  const auto timeout = std::chrono::seconds(o.timeout_seconds);
  c10::intrusive_ptr<c10d::TCPStore> store;
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(o.master_port);
    store_options.isServer = o.is_primary();
    store_options.numWorkers = static_cast<size_t>(o.world_size);
    store_options.waitWorkers = false;
    store_options.timeout = timeout;
    store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, store_options);
  } catch (const std::exception& e) {
    throw WorkerLost(fmt::format(
        "worker {}: no rendezvous at {}:{} ({}); check --master-addr and --master-port, and "
        "that the primary worker (rank 0) runs",
        o.rank, o.master_addr, o.master_port, e.what()));
  }
  try {
    auto group_options = c10d::ProcessGroupGloo::Options::create(timeout);
    group_options->devices.push_back(gloo_device(o.master_addr));
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, int(o.rank), int(o.world_size),
                                                             group_options);
    return std::make_shared<GlooCollective>(std::move(group), o.rank, o.world_size);
  } catch (const std::exception& e) {
    throw WorkerLost(fmt::format("worker {}: the group of {} workers did not form within {} s: {}",
                                 o.rank, o.world_size, o.timeout_seconds, e.what()));
  }
}

#else

bool data_parallel_available() { return false; }

std::shared_ptr<Collective> Collective::join(const DataParallelOptions& o) {
  o.check();
  throw core::UserError(
      "this build of slimformer cannot train on several processes: Gloo's headers were missing "
      "when it was configured (apt-get install libgloo-dev, then configure again)");
}

#endif

}  // namespace slimformer::train
