#include "slimformer/methods/linearize/linearize.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "slimformer/core/error.h"
#include "slimformer/core/glob.h"
#include "slimformer/nn/linear_attention.h"

namespace slimformer::methods {

void LinearizeOptions::check() const {
  if (!nn::is_feature_map(feature_map))
    throw core::UserError(fmt::format("--feature-map must be one of {}, got '{}'",
                                      fmt::join(nn::feature_map_names(), ", "), feature_map));
  if (feature_dim < 1)
    throw core::UserError(fmt::format("--feature-dim must be >= 1, got {}", feature_dim));
  if (feature_map == "rfa" && feature_dim < 2)
    throw core::UserError(fmt::format(
        "--feature-dim must be >= 2 for rfa (a sine and a cosine per direction), got {}",
        feature_dim));
}

void check_has_decoder(const models::TransformerConfig& config) {
  if (config.model_type == "encoder")
    throw core::UserError(
        "an encoder-only model has no decoder to run as an RNN: linearize converts the attention "
        "of translation models and language models");
}

std::vector<std::string> attention_sublayers_to_linearize(models::ModelTree& model,
                                                          const LinearizeOptions& options) {
  check_has_decoder(model.config());
  const std::vector<std::string> patterns =
      options.sublayers.empty() ? std::vector<std::string>{"decoder.**"} : options.sublayers;
  std::set<std::string> chosen;
  for (const auto& pattern : patterns) {
    bool matched = false;
    for (const auto& sublayer : model.sublayers()) {
      if (sublayer->type() == nn::SublayerType::kFeedForward ||
          !core::glob_match(pattern, sublayer->path()))
        continue;
      matched = true;
      if (sublayer->removed())
        throw core::UserError(fmt::format("--sublayers: {} was removed from this model",
                                          sublayer->path()));
      const std::string kind = sublayer->block()->kind();
      if (kind != "softmax_attention")
        throw core::UserError(fmt::format("--sublayers: {} is {}, not softmax attention",
                                          sublayer->path(), kind));
      chosen.insert(sublayer->path());
    }
    if (!matched)
      throw core::UserError(
          fmt::format("--sublayers: '{}' matches no attention sublayer of this model", pattern));
  }
  // In forward order, whatever the order of the patterns.
  std::vector<std::string> ordered;
  for (const auto& sublayer : model.sublayers())
    if (chosen.contains(sublayer->path())) ordered.push_back(sublayer->path());
  return ordered;
}

std::vector<std::string> linearize(models::ModelTree& model, const LinearizeOptions& options) {
  options.check();
  const auto paths = attention_sublayers_to_linearize(model, options);
  torch::manual_seed(options.seed);
  for (const auto& path : paths) {
    auto sublayer = model.sublayer(path);
    const core::TensorMap projections = sublayer->state();
    nn::BlockSpec spec = sublayer->block()->spec();
    spec.kind = "linear_attention";
    spec.options["feature_map"] = options.feature_map;
    spec.options["feature_dim"] = options.feature_dim;
    model.replace(path, spec);
    // The pre-trained projections and norm carry over; the new map keeps its initialization.
    torch::NoGradGuard no_grad;
    for (auto& [name, tensor] : model.sublayer(path)->state()) {
      auto it = projections.find(name);
      if (it != projections.end()) tensor.copy_(it->second);
    }
  }
  return paths;
}

std::vector<std::string> attention_only_parameters(const std::vector<std::string>& paths) {
  std::vector<std::string> patterns;
  for (const auto& path : paths)
    for (const char* part : {"q_proj", "k_proj", "v_proj", "feature_map"})
      patterns.push_back(fmt::format("{}.block.{}.**", path, part));
  return patterns;
}

}  // namespace slimformer::methods
