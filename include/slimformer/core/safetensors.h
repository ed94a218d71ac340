// Reading and writing the safetensors format (https://huggingface.co/docs/safetensors): an
// 8-byte little-endian header length, a JSON header, then the raw little-endian tensor bytes.
// Every offset and size in the header is checked against the file before any tensor is made.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

namespace slimformer::core {

using TensorMap = std::map<std::string, torch::Tensor>;
using Metadata = std::map<std::string, std::string>;

// Refuses headers larger than this: a corrupt length must not allocate gigabytes.
constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;

TensorMap load_safetensors(const std::filesystem::path& path, Metadata* metadata = nullptr);
// The dtype of every tensor, from the header alone (the data is not read).
std::map<std::string, torch::ScalarType> safetensors_dtypes(const std::filesystem::path& path);
// Parses an in-memory file; `name` is used in error messages.
TensorMap parse_safetensors(const std::string& bytes, const std::string& name,
                            Metadata* metadata = nullptr);

// Writes atomically; tensors are stored in their own dtype, contiguous, on the CPU.
void save_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                      const Metadata& metadata = {});
std::string serialize_safetensors(const TensorMap& tensors, const Metadata& metadata = {});

}  // namespace slimformer::core
