// safetensors files (checkpoints, sparse matrices in compressed form): header and data, and
// the dense matrices back from their compressed parts, as a checkpoint is read.
#include "fuzz_input.h"
#include "slimformer/core/safetensors.h"
#include "slimformer/kernels/sparse_storage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  return slimformer::fuzz::expect_user_errors_only([&] {
    slimformer::core::Metadata metadata;
    auto tensors = slimformer::core::parse_safetensors(bytes, "fuzz.safetensors", &metadata);
    slimformer::kernels::unpack_sparse(std::move(tensors), metadata, "fuzz.safetensors");
  });
}
