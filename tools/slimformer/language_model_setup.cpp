#include "language_model_setup.h"

#include <fmt/format.h>

#include "slimformer/data/text_file.h"

namespace slimformer::tools {

namespace fs = std::filesystem;

void add_language_model_data_options(CommandOptions& options) {
  options.add("data.train_text", "",
              "language models: training text (plain or .gz), one line each");
  options.add("data.valid_text", "", "language models: validation text");
  options.add("data.context", 128, "language models: tokens per training window");
}

pipeline::LanguageModelData language_model_data(const core::Settings& s) {
  pipeline::LanguageModelData d;
  d.train_text = s.get_string("data.train_text");
  d.valid_text = s.get_string("data.valid_text");
  d.context = s.get_int_at_least("data.context", 2);
  return d;
}

train::TrainResult run_language_model_training(const core::Settings& s,
                                               const CommonOptions& common) {
  auto run = training_run(s, common, "train");
  const auto data = language_model_data(s);
  for (const char* key : {"data.train_text", "data.valid_text"})
    if (s.get_string(key).empty()) s.fail(key, "must name a text file for --task lm");
  if (!run.train.resume && data.context > s.get_int("model.max_position_embeddings"))
    s.fail("data.context", fmt::format("must be at most model.max_position_embeddings {}",
                                       s.get_int("model.max_position_embeddings")));
  pipeline::prepare_output_dir(run.train);
  auto model = pipeline::resume_or_start(run.train, run.device, [&] {
    train::LoadedModel fresh;
    fresh.tokenizer =
        tokenizer_from_settings(s, data::read_lines(data.train_text), run.train.output_dir);
    auto config = config_from_settings(s, fresh.tokenizer->size(), "causal_lm");
    config.bos_token_id = fresh.tokenizer->bos_id();
    config.eos_token_id = fresh.tokenizer->eos_id();
    config.validate("model options");
    auto typed = models::CausalLM(config);
    typed->to(run.device);
    fresh.model = typed.ptr();
    return fresh;
  });
  return pipeline::train_language_model(model, data, run);
}

}  // namespace slimformer::tools
