// The model tree: every model exposes its sublayers by path, in order, and can read and write
// its whole state as a flat map keyed by the same paths. Methods work only through this API.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "slimformer/core/safetensors.h"
#include "slimformer/models/transformer_config.h"
#include "slimformer/nn/sublayer.h"

namespace slimformer::models {

class ModelTree {
 public:
  virtual ~ModelTree() = default;
  // Every sublayer in forward order, removed ones included (they report removed()).
  virtual std::vector<nn::Sublayer> sublayers() = 0;
  // The LibTorch module that holds all parameters.
  virtual torch::nn::Module& module() = 0;
  // The architecture, with the removed sublayers recorded.
  virtual const TransformerConfig& config() const = 0;

  // Removes a sublayer physically and records it in the model's config.
  void remove(const std::string& path);
  // Replaces the block of a sublayer by one built from `spec` through the block registry, and
  // records the spec in the config (config.blocks) unless it is the family default, so the model
  // saves and reloads as it now is. Options the spec leaves out are the current block's when the
  // kind stays. The new block starts from its own initialization, on the model's device. Returns
  // the new block.
  std::shared_ptr<nn::BlockImpl> replace(const std::string& path, const nn::BlockSpec& spec);

  // The sublayer at `path`; a UserError listing the valid paths if there is none.
  nn::Sublayer sublayer(const std::string& path);

  // Parameters and persistent buffers by path.
  core::TensorMap state();
  // A detached copy of state(): what a run records as its initial parameters.
  core::TensorMap copy_state();
  // Strict: every parameter must be present with its shape, and nothing else. `source` names
  // the file in errors.
  void load_state(const core::TensorMap& tensors, const std::string& source);
  int64_t num_parameters();

 protected:
  virtual TransformerConfig& mutable_config() = 0;
};

// A fresh model of the family config.model_type names, initialized from config.init_seed.
std::shared_ptr<ModelTree> build_model(const TransformerConfig& config);

}  // namespace slimformer::models
