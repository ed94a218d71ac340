// SQuAD v1.1 JSON, and the passages made from it (the passage cache's input).
#include "fuzz_input.h"
#include "slimformer/data/passages.h"
#include "slimformer/data/squad.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = slimformer::fuzz::write_input(data, size, ".json");
  return slimformer::fuzz::expect_user_errors_only([&] {
    const auto dataset = slimformer::data::read_squad(path);
    slimformer::data::squad_passages(dataset);
    slimformer::data::split_by_article(dataset, 1);
  });
}
