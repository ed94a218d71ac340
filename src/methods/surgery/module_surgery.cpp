#include "slimformer/methods/surgery/module_surgery.h"

#include <fmt/format.h>

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
