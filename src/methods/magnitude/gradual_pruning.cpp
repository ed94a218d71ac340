#include "slimformer/methods/magnitude/gradual_pruning.h"

#include <fmt/format.h>

#include <cmath>

#include "slimformer/core/error.h"

namespace slimformer::methods {

void PruningSchedule::check(const std::string& prefix) const {
  check_sparsity(target, prefix);
  check_sparsity(initial, prefix + "-initial");
  if (initial > target)
    throw core::UserError(fmt::format("{}-initial {} is above the target sparsity {}", prefix,
                                      initial, target));
  if (begin < 0) throw core::UserError(fmt::format("{}-begin must be >= 0, got {}", prefix, begin));
  if (end <= begin)
    throw core::UserError(fmt::format("{}-end {} must come after {}-begin {}", prefix, end,
                                      prefix, begin));
  if (every < 1) throw core::UserError(fmt::format("{}-every must be >= 1, got {}", prefix, every));
}

double PruningSchedule::sparsity_at(int64_t step) const {
  if (step <= begin) return initial;
  if (step >= end) return target;
  const double remaining = 1.0 - double(step - begin) / double(end - begin);
  return target + (initial - target) * remaining * remaining * remaining;
}

GradualPruning::GradualPruning(PruningSchedule schedule, MatrixChoice choice, bool hold_zeros)
    : schedule_(schedule), choice_(std::move(choice)), hold_zeros_(hold_zeros) {}

void GradualPruning::prune_to(double sparsity, models::ModelTree& model) {
  if (schedule_.random) {
    // The control keeps the random choice nested: a larger sparsity drops a superset.
    masks_ = random_masks(model, matrices_, sparsity, schedule_.seed);
  } else {
    masks_ = magnitude_masks(model, matrices_, sparsity, schedule_.scope);
  }
  for (auto& [name, mask] : masks_) {
    auto held = held_.find(name);
    if (held != held_.end()) mask &= held->second;
  }
  sparsity_ = sparsity;
  apply_masks(model, masks_);
}

void GradualPruning::before_training(models::ModelTree& model) {
  matrices_ = select_matrices(model, choice_.patterns, choice_.embeddings);
  if (!masks_.empty()) {  // resumed
    apply_masks(model, masks_);
    return;
  }
  if (hold_zeros_) {
    auto params = model.state();
    for (const auto& name : matrices_) held_[name] = params.at(name).ne(0).cpu();
    masks_ = held_;
  }
  if (schedule_.initial > 0) prune_to(schedule_.initial, model);
}

void GradualPruning::after_update(int64_t step, models::ModelTree& model) {
  const bool due = step >= schedule_.begin && (step - schedule_.begin) % schedule_.every == 0;
  const bool last = step == schedule_.end;
  if (step <= schedule_.end && (due || last)) {
    const double s = schedule_.sparsity_at(step);
    if (s > sparsity_ || masks_.empty()) prune_to(s, model);
  }
  if (!masks_.empty()) apply_masks(model, masks_);
}

core::TensorMap GradualPruning::state() const {
  core::TensorMap out;
  for (const auto& [name, mask] : masks_) out["mask." + name] = mask.to(torch::kUInt8);
  for (const auto& [name, mask] : held_) out["held." + name] = mask.to(torch::kUInt8);
  out["sparsity"] = torch::tensor({sparsity_}, torch::kFloat64);
  return out;
}

void GradualPruning::load_state(const core::TensorMap& state) {
  masks_.clear();
  held_.clear();
  for (const auto& [key, value] : state) {
    if (key.rfind("mask.", 0) == 0) masks_[key.substr(5)] = value.to(torch::kBool);
    if (key.rfind("held.", 0) == 0) held_[key.substr(5)] = value.to(torch::kBool);
  }
  auto it = state.find("sparsity");
  sparsity_ = it == state.end() ? 0.0 : it->second.item<double>();
}

}  // namespace slimformer::methods
