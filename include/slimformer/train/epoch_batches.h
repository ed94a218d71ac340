// The batches of one training epoch (lists of example indices), made once per epoch from a seed
// derived from the run's seed and the epoch number, so that a resumed run replays the same order.
#pragma once

#include <functional>
#include <vector>

namespace slimformer::train {

class EpochBatches {
 public:
  using Batches = std::vector<std::vector<int64_t>>;
  using MakeBatches = std::function<Batches(uint64_t epoch_seed)>;

  EpochBatches() = default;
  EpochBatches(int64_t seed, MakeBatches make) : seed_(seed), make_(std::move(make)) {}

  const Batches& at(int64_t epoch) {
    if (epoch != epoch_) batches_ = make_(epoch_seed(epoch)), epoch_ = epoch;
    return batches_;
  }
  uint64_t epoch_seed(int64_t epoch) const { return uint64_t(seed_) * 1000003u + uint64_t(epoch); }

 private:
  int64_t seed_ = 1;
  MakeBatches make_;
  int64_t epoch_ = -1;
  Batches batches_;
};

// Shuffled batches of at most `max_tokens` tokens (padding included) over examples of the given
// lengths (data::batch_by_tokens).
EpochBatches token_budget_batches(std::vector<int64_t> lengths, int64_t max_tokens, int64_t seed);

}  // namespace slimformer::train
