#include "slimformer/core/checksum.h"

#include <fmt/format.h>

namespace slimformer::core {

uint64_t fnv1a(const void* data, size_t size, uint64_t hash) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string fingerprint(const TensorMap& tensors) {
  uint64_t hash = kFnvOffset;
  for (const auto& [name, tensor] : tensors) {
    hash = fnv1a(name.data(), name.size(), hash);
    for (int64_t size : tensor.sizes()) hash = fnv1a(&size, sizeof size, hash);
    torch::Tensor values = tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    hash = fnv1a(values.data_ptr<float>(), values.numel() * sizeof(float), hash);
  }
  return fmt::format("{:016x}", hash);
}

}  // namespace slimformer::core
