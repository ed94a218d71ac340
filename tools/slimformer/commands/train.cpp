// slimformer train: train a translation model or a causal language model from a recipe or
// options.
#include <fmt/format.h>

#include "command_line.h"
#include "commands.h"
#include "language_model_setup.h"
#include "training_setup.h"
#include "translation_setup.h"

namespace slimformer::tools {

void register_train(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train", "train a translation model (encoder-decoder) or a causal language model");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  options->add("task", "translation",
               "translation (parallel text, BLEU) or lm (running text, perplexity)", "--task");
  add_translation_train_options(*options);
  add_language_model_data_options(*options);
  add_data_parallel_options(*options);
  cmd->callback([options, common] {
    core::Settings settings;
    if (!options->resolve(settings)) return;
    common->apply();
    const std::string task = settings.get_choice("task", {"translation", "lm"});
    const auto result = task == "lm" ? run_language_model_training(settings, *common)
                                     : run_translation_training(settings, *common);
    const std::string output = settings.get_string("output");
    fmt::print("trained {} steps in {:.0f} s ({:.0f} target tokens/s), stopped by {}\n",
               result.steps, result.seconds, result.tokens_per_second, result.stop_reason);
    for (const auto& [k, v] : result.best) fmt::print("best {} {:.3f}\n", k, v);
    fmt::print("checkpoints in {}/best and {}/last\n", output, output);
  });
}

}  // namespace slimformer::tools
