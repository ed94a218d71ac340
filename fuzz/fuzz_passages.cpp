// Passage files for the passage cache (id<TAB>text).
#include "fuzz_input.h"
#include "slimformer/data/passages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = slimformer::fuzz::write_input(data, size, ".tsv");
  return slimformer::fuzz::expect_user_errors_only([&] { slimformer::data::read_passages(path); });
}
