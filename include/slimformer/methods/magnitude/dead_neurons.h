// After magnitude pruning, a feed-forward neuron whose output column is all zero contributes
// nothing, and one whose input rows are all zero outputs a constant that the output bias can
// absorb: both are removed physically, and the block spec records the narrower width, so the
// pruned model is smaller in every product, not only in the sparse ones.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slimformer/models/model_tree.h"

namespace slimformer::methods {

struct RemovedNeurons {
  std::string path;  // the feed-forward sublayer
  int64_t before = 0, after = 0;
};

// Removes dead neurons from every feed-forward sublayer of `model`; returns the layers that shrank.
std::vector<RemovedNeurons> remove_dead_neurons(models::ModelTree& model);

}  // namespace slimformer::methods
