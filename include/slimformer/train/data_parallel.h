// Data-parallel training over several processes, on one machine or several, with LibTorch's own
// c10d engine: a TCP store for the rendezvous and Gloo for the collectives. Every worker holds the
// whole model; each update's batches are dealt out among the workers, their gradients summed, and
// every worker takes the same optimizer step. The trainer (train/trainer.h) is the only user.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "slimformer/core/error.h"

namespace slimformer::train {

struct DataParallelOptions {
  int64_t world_size = 1;  // 1: one process, no collectives
  int64_t rank = 0;        // 0: the primary worker, which validates and writes checkpoints
  std::string master_addr = "127.0.0.1";  // where the primary's rendezvous store listens
  int64_t master_port = 29500;
  // How long a collective (and the rendezvous) waits for a silent worker before the run stops.
  int64_t timeout_seconds = 1800;

  bool enabled() const { return world_size > 1; }
  bool is_primary() const { return rank == 0; }
  // Throws core::UserError naming the option when the values cannot form a group.
  void check() const;
};

// A worker of the group was lost (it died, or stayed silent past the timeout), or the group could
// not form. The message is one line, as a UserError's.
class WorkerLost : public core::UserError {
 public:
  using core::UserError::UserError;
};

// True when this build can train on several processes (its LibTorch's Gloo headers were found).
bool data_parallel_available();

// This process's membership in the group of workers. Every call is collective: each worker must
// make the same calls in the same order. Failures throw WorkerLost.
class Collective {
 public:
  // Joins the group: the primary starts the rendezvous store, the others connect to it (waiting
  // up to the timeout for it to appear); returns when every worker has joined.
  static std::shared_ptr<Collective> join(const DataParallelOptions& options);
  virtual ~Collective() = default;

  virtual int64_t rank() const = 0;
  virtual int64_t world_size() const = 0;
  // Sums `tensors` over the workers in place, in buckets of contiguous memory.
  virtual void sum(std::vector<torch::Tensor>& tensors) = 0;
  // Every worker's `tensor` (the same shape and type on each), in rank order.
  virtual std::vector<torch::Tensor> gather(const torch::Tensor& tensor) = 0;
  // Replaces `tensor` with the primary's.
  virtual void broadcast_from_primary(torch::Tensor& tensor) = 0;
};

// Sums `values` over the workers in place: work dealt out by index, each worker filling in its
// share and leaving zeros elsewhere, comes back whole on every worker.
void sum_values(Collective& workers, std::vector<double>& values);

// Every worker's `text`, in rank order.
std::vector<std::string> gather_strings(Collective& workers, const std::string& text);

}  // namespace slimformer::train
