// config.json: a model's architecture, read and validated; what it writes back reads back to the
// same config; and each block spec it holds is built into its block, as loading a model does
// (where the widths stay small: a valid but huge model is not what this target looks for).
#include <cstdlib>

#include "fuzz_input.h"
#include "slimformer/models/architecture.h"
#include "slimformer/models/transformer_config.h"
#include "slimformer/nn/block_registry.h"

namespace {

constexpr int64_t kLargestWidth = 1024;

bool small(const slimformer::nn::BlockSpec& spec, int64_t d_model) {
  if (d_model > kLargestWidth) return false;
  for (const auto& [key, value] : spec.options.items())
    if (value.is_number() && (value.get<double>() > kLargestWidth || value.get<double>() < -1))
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slimformer;
  const std::string path = fuzz::write_input(data, size, ".json");
  return fuzz::expect_user_errors_only([&] {
    const auto config = models::TransformerConfig::load(path);
    if (models::TransformerConfig::from_json(config.to_json(), path).to_json() !=
        config.to_json()) {
      std::fprintf(stderr, "config.json does not read back to itself\n");
      std::abort();
    }
    for (const auto& [where, spec] : config.blocks) {
      if (!small(spec, config.d_model)) continue;
      nn::BlockEnv env;
      env.embed_dim = config.d_model;
      env.where = "blocks." + where;
      nn::build_block(spec, models::sublayer_role(where), env);
    }
  });
}
