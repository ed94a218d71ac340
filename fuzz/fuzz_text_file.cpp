// Plain and gzip text (corpora, parallel text): the first byte picks which the name says.
#include "fuzz_input.h"
#include "slimformer/data/text_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string path =
      slimformer::fuzz::write_input(data + 1, size - 1, data[0] & 1 ? ".txt.gz" : ".txt");
  return slimformer::fuzz::expect_user_errors_only([&] { slimformer::data::read_lines(path); });
}
