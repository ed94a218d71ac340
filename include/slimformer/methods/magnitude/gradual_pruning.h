// Gradual magnitude pruning during training (Zhu & Gupta 2017, the schedule of Gordon et al.'s
// code): from step `begin` to step `end`, every `every` updates, the masks are recomputed for
//   s(t) = target + (initial - target) * (1 - (t - begin) / (end - begin))^3
// and, after every update, pruned weights are set back to exactly zero (whatever the optimizer's
// moments would make of them). Masks and the sparsity reached are part of the checkpoint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slimformer/methods/magnitude/magnitude_pruning.h"
#include "slimformer/train/trainer.h"

namespace slimformer::methods {

struct PruningSchedule {
  double initial = 0.0;  // sparsity at `begin`
  double target = 0.5;   // sparsity from `end` on
  int64_t begin = 0, end = 1000;
  int64_t every = 10;  // updates between mask recomputations
  PruningScope scope = PruningScope::kPerMatrix;
  bool random = false;  // the control: random masks at the same sparsity (fixed once drawn)
  uint64_t seed = 1;

  // Throws a UserError (naming the options by `prefix`, e.g. "--prune") if inconsistent.
  void check(const std::string& prefix) const;
  // s(step); `initial` before begin, `target` from end on.
  double sparsity_at(int64_t step) const;
};

// Which matrices are pruned: select_matrices(model, patterns, embeddings).
struct MatrixChoice {
  std::vector<std::string> patterns;
  bool embeddings = true;
};

class GradualPruning : public train::TrainingHook {
 public:
  // With `hold_zeros`, the weights that are zero when training starts (a model pruned before) are
  // masked from the start, whatever the schedule adds.
  GradualPruning(PruningSchedule schedule, MatrixChoice choice, bool hold_zeros = false);

  std::string name() const override { return "magnitude_pruning"; }
  // Resolves the matrices (a pattern that matches none is a UserError) and applies the initial
  // masks: the held zeros, the initial sparsity, or, on resume, the restored masks.
  void before_training(models::ModelTree& model) override;
  void after_update(int64_t step, models::ModelTree& model) override;
  core::TensorMap state() const override;
  void load_state(const core::TensorMap& state) override;

  const Masks& masks() const { return masks_; }
  double sparsity() const { return sparsity_; }

 private:
  void prune_to(double sparsity, models::ModelTree& model);

  PruningSchedule schedule_;
  MatrixChoice choice_;
  bool hold_zeros_;
  std::vector<std::string> matrices_;
  Masks masks_, held_;
  double sparsity_ = 0.0;
};

}  // namespace slimformer::methods
