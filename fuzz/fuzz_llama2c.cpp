// llama2.c checkpoints (model.bin): the header, the sizes it implies, the weights.
#include "fuzz_input.h"
#include "slimformer/train/llama2c_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = slimformer::fuzz::write_input(data, size, ".bin");
  return slimformer::fuzz::expect_user_errors_only([&] { slimformer::train::read_llama2c(path); });
}
