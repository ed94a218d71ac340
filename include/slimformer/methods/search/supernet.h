// Weight inheritance of the FFN search: a super-network whose every FFN is at the largest depth
// and width (linear4_1 of the expression), from which a candidate takes its weights by slicing
// (the first d sub-networks, the first k inner units of each), as the method's code does.
#pragma once

#include <string>
#include <vector>

#include "slimformer/methods/search/search_space.h"
#include "slimformer/models/model_tree.h"

namespace slimformer::methods {

// The paths of the FFN sublayers a search changes, lowest layer first; a UserError when `model`
// is not an encoder or has removed FFNs.
std::vector<std::string> searched_ffn_paths(models::ModelTree& model, const std::string& name);

// Copies into `target` the leading slices of `source`'s weights: from an "ffn" block, its fc1
// and fc2 into the first sub-network; from an "ffn_expression" block, every sub-network the
// target has (and the source has), the first k rows of wb1 and columns of wb2. Sub-networks or
// units the source lacks keep their values. A UserError when `target` is not an ffn_expression
// block or `source` neither kind, or when the target is wider than the source.
void inherit_ffn_weights(nn::BlockImpl& target, const nn::BlockImpl& source);

// Replaces every searched FFN of `model` with the architecture's layer and inherits its weights
// from the same path of `source` (which may be `model` itself).
void apply_architecture(models::ModelTree& model, const Architecture& architecture,
                        models::ModelTree& source);

// The architecture a model's FFNs hold (each an ffn_expression block), or a UserError naming the
// first that is not.
Architecture architecture_of(models::ModelTree& model);

// Runs only the given depth and ratio of each layer's block (weight sharing; the model's FFNs
// must be ffn_expression blocks at least that large).
void set_active_sizes(models::ModelTree& model, const Architecture& sizes);

}  // namespace slimformer::methods
