#include "slimformer/models/model_tree.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "slimformer/core/error.h"
#include "slimformer/models/architecture.h"
#include "slimformer/models/causal_lm.h"
#include "slimformer/models/encoder.h"
#include "slimformer/models/seq2seq.h"

namespace slimformer::models {

void ModelTree::remove(const std::string& path) {
  sublayer(path)->remove();
  auto& removed = mutable_config().removed_sublayers;
  if (std::find(removed.begin(), removed.end(), path) == removed.end()) removed.push_back(path);
  mutable_config().blocks.erase(path);
}

std::shared_ptr<nn::BlockImpl> ModelTree::replace(const std::string& path,
                                                  const nn::BlockSpec& spec) {
  nn::Sublayer target = sublayer(path);
  if (target->removed())
    throw core::UserError(fmt::format("{}: cannot replace the block of a removed sublayer", path));
  const nn::BlockSpec full = complete_spec(spec, target->block()->spec());
  auto block = nn::build_block(full, sublayer_role(path), block_env(config(), path));
  // The new block lives where the model does.
  const auto params = module().parameters();
  if (!params.empty()) block->to(params.front().device(), params.front().scalar_type());
  block->train(module().is_training());
  target->replace(block);
  auto& blocks = mutable_config().blocks;
  if (full == default_block_spec(config(), path))
    blocks.erase(path);
  else
    blocks[path] = full;
  return block;
}

std::shared_ptr<ModelTree> build_model(const TransformerConfig& config) {
  if (config.is_causal_lm()) return CausalLM(config).ptr();
  if (config.is_encoder()) return EncoderModel(config).ptr();
  return Seq2SeqTransformer(config).ptr();
}

nn::Sublayer ModelTree::sublayer(const std::string& path) {
  std::vector<std::string> known;
  for (auto& s : sublayers()) {
    if (s->path() == path) return s;
    known.push_back(s->path());
  }
  std::string hint = known.size() > 4
                         ? fmt::format("{}, {}, ..., {}", known[0], known[1], known.back())
                         : fmt::format("{}", fmt::join(known, ", "));
  throw core::UserError(fmt::format("no sublayer {} in this model (paths: {})", path, hint));
}

core::TensorMap ModelTree::state() {
  core::TensorMap out;
  for (const auto& item : module().named_parameters()) out[item.key()] = item.value();
  for (const auto& item : module().named_buffers()) out[item.key()] = item.value();
  return out;
}

core::TensorMap ModelTree::copy_state() {
  core::TensorMap out = state();
  for (auto& [name, tensor] : out) tensor = tensor.detach().clone();
  return out;
}

void ModelTree::load_state(const core::TensorMap& tensors, const std::string& source) {
  torch::NoGradGuard no_grad;
  auto own = module().named_parameters();
  size_t matched = 0;
  for (auto& item : own) {
    auto it = tensors.find(item.key());
    if (it == tensors.end())
      throw core::UserError(fmt::format("{}: missing tensor {}", source, item.key()));
    if (it->second.sizes() != item.value().sizes())
      throw core::UserError(fmt::format("{}: tensor {} has shape {} but the model expects {}",
                                        source, item.key(), it->second.sizes(),
                                        item.value().sizes()));
    item.value().copy_(it->second);
    ++matched;
  }
  for (auto& item : module().named_buffers()) {
    auto it = tensors.find(item.key());
    if (it != tensors.end()) item.value().copy_(it->second), ++matched;
  }
  if (matched != tensors.size()) {
    for (const auto& [key, tensor] : tensors)
      if (!own.contains(key) && !module().named_buffers().contains(key))
        throw core::UserError(
            fmt::format("{}: unexpected tensor {} (not in this model)", source, key));
  }
}

int64_t ModelTree::num_parameters() {
  int64_t n = 0;
  for (const auto& p : module().parameters()) n += p.numel();
  return n;
}

}  // namespace slimformer::models
