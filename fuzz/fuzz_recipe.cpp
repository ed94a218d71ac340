// YAML and JSON recipes (--config): the first byte picks the format.
#include "fuzz_input.h"
#include "slimformer/core/settings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string path =
      slimformer::fuzz::write_input(data + 1, size - 1, data[0] & 1 ? ".json" : ".yaml");
  static const std::vector<std::string> known = {
      "output",       "resume",        "train.lr",        "train.max_steps",
      "train.freeze", "model.d_model", "data.train_text", "vocab.size",
      "beam",         "model"};
  return slimformer::fuzz::expect_user_errors_only([&] {
    slimformer::core::Settings settings;
    slimformer::core::load_recipe(path, known, settings);
  });
}
