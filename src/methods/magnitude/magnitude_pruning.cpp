#include "slimformer/methods/magnitude/magnitude_pruning.h"

#include <fmt/format.h>

#include <cmath>

#include "slimformer/core/error.h"
#include "slimformer/core/glob.h"

namespace slimformer::methods {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_block_matrix(const std::string& name) {
  return core::glob_match("**.block.*_proj.weight", name) ||
         core::glob_match("**.block.fc*.weight", name) || name == "pooler.weight";
}

bool is_word_embedding(const std::string& name) {
  return ends_with(name, "embed_tokens.weight") || name == "lm_head.weight";
}

int64_t pruned_count(int64_t size, double sparsity) {
  return std::min<int64_t>(size, std::llround(sparsity * double(size)));
}

// A flat mask of `size` keeping all but the positions in `dropped`.
torch::Tensor mask_without(int64_t size, const torch::Tensor& dropped) {
  auto mask = torch::ones({size}, torch::kBool);
  if (dropped.numel() > 0) mask.index_fill_(0, dropped, false);
  return mask;
}

// Flat indices of the `count` smallest magnitudes, ties in position order.
torch::Tensor smallest(const torch::Tensor& magnitudes, int64_t count) {
  if (count == 0) return torch::empty({0}, torch::kLong);
  auto order = std::get<1>(torch::sort(magnitudes, /*stable=*/true, /*dim=*/0,
                                       /*descending=*/false));
  return order.slice(0, 0, count);
}

}  // namespace

PruningScope parse_pruning_scope(const std::string& name, const std::string& option) {
  if (name == "per-matrix") return PruningScope::kPerMatrix;
  if (name == "global") return PruningScope::kGlobal;
  throw core::UserError(fmt::format("{} must be per-matrix or global, got {}", option, name));
}

void check_sparsity(double sparsity, const std::string& option) {
  if (!(sparsity >= 0.0 && sparsity < 1.0))
    throw core::UserError(fmt::format("{} must be in [0, 1), got {}", option, sparsity));
}

std::vector<std::string> prunable_matrices(models::ModelTree& model, bool embeddings) {
  std::vector<std::string> names;
  for (const auto& item : model.module().named_parameters()) {
    const auto& name = item.key();
    if (item.value().dim() != 2) continue;
    if (is_block_matrix(name) || (embeddings && is_word_embedding(name))) names.push_back(name);
  }
  return names;
}

std::vector<std::string> select_matrices(models::ModelTree& model,
                                         const std::vector<std::string>& patterns,
                                         bool embeddings) {
  auto all = prunable_matrices(model, embeddings);
  if (patterns.empty()) return all;
  for (const auto& pattern : patterns) {
    bool any = false;
    for (const auto& name : all) any |= core::glob_match(pattern, name);
    if (!any)
      throw core::UserError(fmt::format(
          "--matrices {}: matches no prunable matrix of this model (attention projections, "
          "feed-forward matrices, pooler{}), e.g. {}",
          pattern, embeddings ? ", word embeddings" : "", all.empty() ? "none" : all.front()));
  }
  std::vector<std::string> chosen;
  for (const auto& name : all)
    if (core::glob_match_any(patterns, name)) chosen.push_back(name);
  return chosen;
}

Masks magnitude_masks(models::ModelTree& model, const std::vector<std::string>& names,
                      double sparsity, PruningScope scope) {
  check_sparsity(sparsity, "sparsity");
  torch::NoGradGuard no_grad;
  auto params = model.state();
  Masks masks;
  if (scope == PruningScope::kPerMatrix) {
    for (const auto& name : names) {
      const auto& w = params.at(name);
      auto magnitudes = w.detach().abs().reshape(-1).to(torch::kFloat32);
      masks[name] = mask_without(w.numel(), smallest(magnitudes, pruned_count(w.numel(), sparsity)))
                        .view(w.sizes());
    }
    return masks;
  }
  std::vector<torch::Tensor> all;
  int64_t total = 0;
  for (const auto& name : names) {
    all.push_back(params.at(name).detach().abs().reshape(-1).to(torch::kFloat32));
    total += all.back().numel();
  }
  auto flags = mask_without(total, smallest(torch::cat(all), pruned_count(total, sparsity)));
  int64_t offset = 0;
  for (const auto& name : names) {
    const auto& w = params.at(name);
    masks[name] = flags.slice(0, offset, offset + w.numel()).view(w.sizes()).clone();
    offset += w.numel();
  }
  return masks;
}

Masks random_masks(models::ModelTree& model, const std::vector<std::string>& names,
                   double sparsity, uint64_t seed) {
  check_sparsity(sparsity, "sparsity");
  auto params = model.state();
  auto generator = at::detail::createCPUGenerator(seed);
  Masks masks;
  for (const auto& name : names) {
    const auto& w = params.at(name);
    auto order = torch::randperm(w.numel(), generator, torch::TensorOptions(torch::kLong));
    masks[name] =
        mask_without(w.numel(), order.slice(0, 0, pruned_count(w.numel(), sparsity))).view(w.sizes());
  }
  return masks;
}

void apply_masks(models::ModelTree& model, const Masks& masks) {
  torch::NoGradGuard no_grad;
  auto params = model.state();
  for (const auto& [name, mask] : masks) {
    auto it = params.find(name);
    if (it == params.end())
      throw std::invalid_argument("apply_masks: the model has no parameter " + name);
    it->second.mul_(mask.to(it->second.device(), it->second.scalar_type()));
  }
}

std::vector<MatrixSparsity> sparsity_table(models::ModelTree& model,
                                           const std::vector<std::string>& names) {
  auto params = model.state();
  std::vector<MatrixSparsity> table;
  for (const auto& name : names) {
    const auto& w = params.at(name);
    table.push_back({name, w.size(0), w.size(1), w.eq(0).sum().item<int64_t>()});
  }
  return table;
}

double overall_sparsity(const std::vector<MatrixSparsity>& table) {
  int64_t zeros = 0, size = 0;
  for (const auto& row : table) {
    zeros += row.zeros;
    size += row.rows * row.cols;
  }
  return size ? double(zeros) / double(size) : 0.0;
}

}  // namespace slimformer::methods
