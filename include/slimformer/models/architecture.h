// The architecture a config describes, sublayer by sublayer: the paths, the block each sublayer
// holds by default (from the stack fields: heads, widths, activation, positions) and the block it
// holds in fact (the config's `blocks` entry where there is one), and what the model decides about
// a block at its place (width, causality, dropout).
#pragma once

#include <string>
#include <vector>

#include "slimformer/models/transformer_config.h"
#include "slimformer/nn/block_registry.h"

namespace slimformer::models {

// Every sublayer path of the architecture in forward order, removed ones included:
// "<stack>.layers.<i>.{self_attn, cross_attn, ffn}".
std::vector<std::string> sublayer_paths(const TransformerConfig& config);

// Attention for self_attn and cross_attn, feed-forward for ffn.
nn::BlockRole sublayer_role(const std::string& path);

// The family default block at `path`, from the stack fields.
nn::BlockSpec default_block_spec(const TransformerConfig& config, const std::string& path);
// The block at `path`: the config's `blocks` entry, completed from the default, or the default.
nn::BlockSpec block_spec(const TransformerConfig& config, const std::string& path);
// `given` with the options it leaves out taken from `base` when both are of one kind.
nn::BlockSpec complete_spec(const nn::BlockSpec& given, const nn::BlockSpec& base);
// Width, causality and dropout of the block at `path`; errors name it as blocks.<path>.
nn::BlockEnv block_env(const TransformerConfig& config, const std::string& path);

}  // namespace slimformer::models
