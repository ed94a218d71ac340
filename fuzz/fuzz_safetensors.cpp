// safetensors files (checkpoints, sparse matrices in compressed form): header and data.
#include "fuzz_input.h"
#include "slimformer/core/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  return slimformer::fuzz::expect_user_errors_only([&] {
    slimformer::core::Metadata metadata;
    slimformer::core::parse_safetensors(bytes, "fuzz.safetensors", &metadata);
  });
}
