#include "slimformer/train/epoch_batches.h"

#include "slimformer/data/parallel_corpus.h"

namespace slimformer::train {

EpochBatches token_budget_batches(std::vector<int64_t> lengths, int64_t max_tokens, int64_t seed) {
  return EpochBatches(seed, [lengths = std::move(lengths), max_tokens](uint64_t epoch_seed) {
    return data::batch_by_tokens(lengths, max_tokens, true, epoch_seed);
  });
}

}  // namespace slimformer::train
