// Module surgery on the model tree: physical removal of sublayers (module pruning) and resetting
// them to their initial parameters (module rewinding, Wang & Tu 2020), and the random choice of
// sublayers that importance-based choices are judged against.
#pragma once

#include <string>
#include <vector>

#include "slimformer/core/safetensors.h"
#include "slimformer/models/model_tree.h"

namespace slimformer::methods {

// Checks that every path names a distinct sublayer still present; a UserError otherwise.
void check_sublayer_paths(models::ModelTree& model, const std::vector<std::string>& paths);

// Removes the sublayers: their parameters leave the model and the config records them.
void remove_sublayers(models::ModelTree& model, const std::vector<std::string>& paths);

// `k` distinct sublayers still present, drawn at random with `seed` (the same seed, the same
// choice); a UserError when the model has fewer.
std::vector<std::string> random_sublayers(models::ModelTree& model, int64_t k, uint64_t seed);

// Sets the sublayers' parameters to their values in `init`.
void rewind_sublayers(models::ModelTree& model, const core::TensorMap& init,
                      const std::vector<std::string>& paths);

}  // namespace slimformer::methods
