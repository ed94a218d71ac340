// Checksums and fingerprints: FNV-1a (64-bit) over bytes, and a tensor map's fingerprint (names,
// shapes and float32 values), which tells whether two checkpoints hold the same parameters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "slimformer/core/safetensors.h"

namespace slimformer::core {

constexpr uint64_t kFnvOffset = 14695981039346656037ull;

// FNV-1a over `size` bytes, continuing from `hash`.
uint64_t fnv1a(const void* data, size_t size, uint64_t hash = kFnvOffset);

// 16 hex digits of the FNV-1a hash of every tensor's name, shape and values (as float32, so a
// float16 export of a model and its float32 load agree whenever the values do).
std::string fingerprint(const TensorMap& tensors);

}  // namespace slimformer::core
