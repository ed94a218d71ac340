// slimformer train: train a translation model from a recipe or options.
#include <fmt/format.h>

#include "command_line.h"
#include "commands.h"
#include "translation_setup.h"

namespace slimformer::tools {

void register_train(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("train", "train a translation model (Transformer encoder-decoder)");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  add_translation_train_options(*options);
  cmd->callback([options, common] {
    core::Settings settings;
    if (!options->resolve(settings)) return;
    common->apply();
    auto run = run_translation_training(settings, *common, command_line());
    fmt::print("trained {} steps in {:.0f} s ({:.0f} target tokens/s), stopped by {}\n",
               run.train.steps, run.train.seconds, run.train.tokens_per_second,
               run.train.stop_reason);
    for (const auto& [k, v] : run.train.best) fmt::print("best {} {:.3f}\n", k, v);
    fmt::print("checkpoints in {}/best and {}/last\n", run.output_dir.string(),
               run.output_dir.string());
  });
}

}  // namespace slimformer::tools
