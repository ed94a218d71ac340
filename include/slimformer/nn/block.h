// The block interface: what a Sublayer wraps. Attention of every kind and feed-forward blocks of
// every kind implement it, so a sublayer's block can be replaced by another kind. A block:
//   - describes itself as a BlockSpec (its kind and options), which config.json stores and the
//     block registry (nn/block_registry.h) builds from;
//   - owns its initialization (reset_parameters);
//   - creates the state it keeps between decoding steps (a key/value cache, later a fixed-size
//     recurrent state), which decoding holds and reorders only through BlockState;
//   - reports named intermediate values to taps, when a caller asks for them.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "slimformer/nn/init.h"

namespace slimformer::nn {

// A block's kind and its options, e.g. {"kind": "ffn", "hidden_dim": 1024, "activation": "relu",
// "gated": false, "bias": true}. Sizes that come from the model (the width) and dropout rates
// (training settings) are not part of it.
struct BlockSpec {
  std::string kind;
  nlohmann::json options = nlohmann::json::object();

  // {"kind": ..., <options>}
  nlohmann::json to_json() const;
  // Reads {"kind": ..., <options>}; a UserError naming `where` when it is not one.
  static BlockSpec from_json(const nlohmann::json& j, const std::string& where);
  bool operator==(const BlockSpec& other) const = default;
};

// How rows move in a reorder. Beam search moves every row to a row of the same source sequence,
// which a state computed from the source alone (cross-attention's keys and values) may ignore.
enum class Reorder { kAny, kWithinSource };

// What a block keeps between decoding steps, created by the block (make_state) and held by the
// decoder. Decoding touches it only through this interface.
class BlockState {
 public:
  virtual ~BlockState() = default;
  // Keeps the rows `order` (beam search reorders hypotheses every step; finished sequences are
  // dropped).
  virtual void reorder(const torch::Tensor& order, Reorder scope) = 0;
  // Bytes of tensor storage held: what a state costs per decoded sequence batch.
  virtual int64_t bytes() const = 0;
};

// Named intermediate values reported during a forward pass ("decoder.layers.2.ffn",
// "encoder.layers.0.self_attn.attention_probs"), for callers that read them without editing a
// model: distillation losses, statistics, reports.
class Taps {
 public:
  virtual ~Taps() = default;
  // Whether `name` is wanted, so that work done only for a tap can be skipped.
  virtual bool wants(const std::string& name) const = 0;
  virtual void put(const std::string& name, const torch::Tensor& value) = 0;
};

// What a block may need besides its input.
struct BlockContext {
  torch::Tensor memory;                // encoder output, for cross-attention  [B, S, D]
  torch::Tensor self_mask;             // boolean, true = masked; broadcast to [B, H, T, T]
  torch::Tensor memory_mask;           // boolean, true = masked; broadcast to [B, H, T, S]
  int64_t position = 0;                // position of the input's first token (rotary angles)
  BlockState* state = nullptr;         // incremental decoding: this block's state, when set
  Taps* taps = nullptr;                // when set, blocks report their intermediate values
  const std::string* scope = nullptr;  // the sublayer path that names this block's taps

  // Reports `value` as "<scope>.<name>" when the taps want it.
  void tap(const std::string& name, const torch::Tensor& value) const;
  bool tapping(const std::string& name) const;
};

class BlockImpl : public torch::nn::Module, public Initializable {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x, const BlockContext& context) = 0;
  // The kind and options that rebuild this block through the registry.
  virtual BlockSpec spec() const = 0;
  // The block's kind ("softmax_attention", "ffn"), as its spec names it.
  std::string kind() const { return spec().kind; }
  // The state kept between decoding steps of sequences at most `max_length` long (0: unknown);
  // none by default (a block that sees one position at a time, like a feed-forward block, needs
  // none).
  virtual std::unique_ptr<BlockState> make_state(int64_t /*max_length*/) const { return nullptr; }
  // By default the block's parts reset themselves in registration order.
  void reset_parameters() override { reset_children(*this); }
};

}  // namespace slimformer::nn
