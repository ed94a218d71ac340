#include "slimformer/nn/block.h"

#include <fmt/format.h>

#include "slimformer/core/error.h"

namespace slimformer::nn {

nlohmann::json BlockSpec::to_json() const {
  nlohmann::json j = {{"kind", kind}};
  j.update(options);
  return j;
}

BlockSpec BlockSpec::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("kind") || !j.at("kind").is_string())
    throw core::UserError(
        fmt::format("{} must be an object with a \"kind\" string, got {}", where, j.dump()));
  BlockSpec spec{j.at("kind").get<std::string>(), j};
  spec.options.erase("kind");
  return spec;
}

bool BlockContext::tapping(const std::string& name) const {
  return taps && scope && taps->wants(*scope + "." + name);
}

void BlockContext::tap(const std::string& name, const torch::Tensor& value) const {
  if (!taps || !scope) return;
  const std::string full = *scope + "." + name;
  if (taps->wants(full)) taps->put(full, value);
}

}  // namespace slimformer::nn
