#include "slimformer/methods/surgery/module_surgery.h"

#include <fmt/format.h>

#include <random>
#include <set>

#include "slimformer/core/error.h"

namespace slimformer::methods {

void check_sublayer_paths(models::ModelTree& model, const std::vector<std::string>& paths) {
  std::set<std::string> seen;
  for (const auto& path : paths) {
    if (!seen.insert(path).second)
      throw core::UserError(fmt::format("sublayer {} is named twice", path));
    if (model.sublayer(path)->removed())
      throw core::UserError(fmt::format("sublayer {} has already been removed", path));
  }
}

void remove_sublayers(models::ModelTree& model, const std::vector<std::string>& paths) {
  check_sublayer_paths(model, paths);
  for (const auto& path : paths) model.remove(path);
}

std::vector<std::string> random_sublayers(models::ModelTree& model, int64_t k, uint64_t seed) {
  std::vector<std::string> present;
  for (auto& s : model.sublayers())
    if (!s->removed()) present.push_back(s->path());
  if (k < 0 || k > static_cast<int64_t>(present.size()))
    throw core::UserError(
        fmt::format("--k must be in [0, {}] (the sublayers present), got {}", present.size(), k));
  // A partial Fisher-Yates shuffle with a fixed generator: portable and reproducible.
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < k; ++i) {
    std::uniform_int_distribution<size_t> pick(i, present.size() - 1);
    std::swap(present[i], present[pick(rng)]);
  }
  present.resize(k);
  return present;
}

void rewind_sublayers(models::ModelTree& model, const core::TensorMap& init,
                      const std::vector<std::string>& paths) {
  check_sublayer_paths(model, paths);
  for (const auto& path : paths) {
    auto sublayer = model.sublayer(path);
    for (const auto& [key, t] : sublayer->state())
      if (!init.count(key))
        throw core::UserError(fmt::format(
            "rewinding {} needs its initial parameters, and {} is not among them", path, key));
    sublayer->load_state(init);
  }
}

}  // namespace slimformer::methods
