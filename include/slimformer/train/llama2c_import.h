// Import of llama2.c checkpoints (Karpathy's llama2.c, "legacy" version 0 export): a Llama-2
// architecture causal LM (RMSNorm, rotary positions, SwiGLU, grouped-query attention, no biases).
//
// Layout, little-endian: seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
// vocab_size, seq_len; a negative vocab_size means a separate classifier), then float32 arrays:
// token embedding [V, dim], attention norms [L, dim], wq [L, dim, dim], wk and wv
// [L, kv_dim, dim], wo [L, dim, dim], FFN norms [L, dim], w1 [L, hidden, dim], w2 [L, dim, hidden],
// w3 [L, hidden, dim], final norm [dim], the rotary tables cos and sin [seq_len, head_dim / 2],
// and the classifier [V, dim] when not shared. Matrices are [out, in], as torch Linear stores them.
#pragma once

#include <filesystem>

#include "slimformer/core/safetensors.h"
#include "slimformer/models/transformer_config.h"

namespace slimformer::train {

struct Llama2cWeights {
  models::TransformerConfig config;  // model_type causal_lm
  core::TensorMap tensors;           // keyed by model-tree path
};

// Reads a llama2.c checkpoint; a UserError naming the file if its size does not match its
// header, the header is implausible, or the file is a newer (versioned) export.
Llama2cWeights read_llama2c(const std::filesystem::path& path);

}  // namespace slimformer::train
