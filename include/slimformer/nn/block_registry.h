// The registry of block kinds: every block of every model is built here from its BlockSpec, so
// that a kind added by a method (a linear attention, a searched feed-forward) is built, saved and
// reloaded like the built-in ones.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "slimformer/nn/block.h"

namespace slimformer::nn {

// The slot a block fills: attention kinds fill attention slots, feed-forward kinds ffn slots.
enum class BlockRole { kAttention, kFeedForward };

// What the model, not the spec, decides about a block at its place.
struct BlockEnv {
  int64_t embed_dim = 512;
  bool cross = false;    // cross-attention: keys and values from the encoder memory
  bool causal = false;   // self-attention that may not look ahead
  double dropout = 0.0;  // attention weights' or activations' dropout (a training setting)
  std::string where;     // names the block in errors ("blocks.decoder.layers.0.ffn")
};

using BlockFactory = std::function<std::shared_ptr<BlockImpl>(const BlockSpec&, const BlockEnv&)>;

// Adds (or replaces) a kind. The built-in kinds (softmax_attention, linear_attention, ffn,
// ffn_expression) are always present.
void register_block_kind(const std::string& kind, BlockRole role, BlockFactory factory);
std::vector<std::string> block_kinds();
// The role of a kind; a UserError naming `where` and the known kinds for an unknown one.
BlockRole block_role(const std::string& kind, const std::string& where);

// Builds a block; a UserError naming env.where for an unknown kind, a kind that does not fit
// `role`, or invalid options.
std::shared_ptr<BlockImpl> build_block(const BlockSpec& spec, BlockRole role, const BlockEnv& env);

// Reads a spec's options with their types, and refuses options the kind does not know, so that a
// misspelt option in config.json is an error rather than a silent default.
class SpecReader {
 public:
  SpecReader(const BlockSpec& spec, std::string where);
  int64_t get_int(const std::string& key, int64_t fallback);
  double get_double(const std::string& key, double fallback);
  bool get_bool(const std::string& key, bool fallback);
  std::string get_string(const std::string& key, const std::string& fallback);
  // A UserError for an option that no get_* asked for.
  void finish() const;
  // A UserError "<where>.<key> <expectation>, got <value>".
  [[noreturn]] void fail(const std::string& key, const std::string& expectation) const;

 private:
  const nlohmann::json& value(const std::string& key);
  const BlockSpec& spec_;
  std::string where_;
  std::vector<std::string> read_;
};

}  // namespace slimformer::nn
