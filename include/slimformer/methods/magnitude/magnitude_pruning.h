// Magnitude weight pruning (Gordon et al. 2020): the weights of smallest magnitude in chosen
// matrices are set to zero, with one threshold per matrix (what the paper's code does) or one for
// all of them. A mask is kept per matrix (true: kept) so that training can hold pruned weights at
// zero. Biases and norms are never pruned.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "slimformer/models/model_tree.h"

namespace slimformer::methods {

enum class PruningScope { kPerMatrix, kGlobal };
PruningScope parse_pruning_scope(const std::string& name, const std::string& option);

// Boolean masks by parameter name: true where the weight is kept.
using Masks = std::map<std::string, torch::Tensor>;

// The matrices pruning acts on by default: attention projections, feed-forward matrices, the
// pooler, and with `embeddings` the word embeddings (and an untied output projection).
std::vector<std::string> prunable_matrices(models::ModelTree& model, bool embeddings);

// Those of prunable_matrices(model, embeddings) that match one of `patterns` (core/glob.h, on
// parameter names, e.g. "encoder.layers.*.ffn.**"); all of them when `patterns` is empty. A
// pattern that matches none is a UserError naming it.
std::vector<std::string> select_matrices(models::ModelTree& model,
                                         const std::vector<std::string>& patterns,
                                         bool embeddings);

// Masks that drop the round(sparsity * size) weights of smallest magnitude, per matrix or over
// all of `names` at once (ties broken by position, so the choice is deterministic). Weights that
// are zero already count as the smallest, so sparsity only grows across calls.
Masks magnitude_masks(models::ModelTree& model, const std::vector<std::string>& names,
                      double sparsity, PruningScope scope);

// The control: the same number of weights per matrix as magnitude_masks(per matrix), chosen at
// random with `seed`.
Masks random_masks(models::ModelTree& model, const std::vector<std::string>& names,
                   double sparsity, uint64_t seed);

// Multiplies each named weight by its mask (no gradient).
void apply_masks(models::ModelTree& model, const Masks& masks);

struct MatrixSparsity {
  std::string name;
  int64_t rows = 0, cols = 0, zeros = 0;
  double sparsity() const { return rows * cols > 0 ? double(zeros) / double(rows * cols) : 0.0; }
};
// Zeros per matrix of `names`, and the overall fraction.
std::vector<MatrixSparsity> sparsity_table(models::ModelTree& model,
                                           const std::vector<std::string>& names);
double overall_sparsity(const std::vector<MatrixSparsity>& table);

// Throws a UserError naming `option` unless 0 <= sparsity < 1.
void check_sparsity(double sparsity, const std::string& option);

}  // namespace slimformer::methods
