// slimformer bench decode: several models of one family measured side by side in one run on one
// test set (parameters, size on disk, the family's metric, the time of an evaluation, decoding
// for translation, alternating between the models), one JSON line per model.
#include <fmt/format.h>

#include <iostream>

#include "commands.h"
#include "options.h"
#include "slimformer/core/runtime.h"
#include "surgery_setup.h"

namespace slimformer::tools {

void add_bench_decode(CLI::App* bench) {
  auto* cmd = bench->add_subcommand(
      "decode", "models side by side: size, metric, decoding or scoring time (alternating)");
  auto models = std::make_shared<std::vector<std::string>>();
  auto options = std::make_shared<CommandOptions>(cmd, /*with_recipe=*/false);
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("models", *models, "checkpoint directories; speed-ups are against the first")
      ->required();
  add_test_options(*options);
  options->set_default("eval.repeats", 3);
  common->add_to(cmd);
  cmd->callback([=] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    std::vector<pipeline::NamedModel> named;
    for (const auto& m : *models) named.push_back({m, m});
    const auto config = models::TransformerConfig::load(models->front() + "/config.json");
    auto measured = pipeline::measure_models(
        named, measure_options(s, config, core::parse_device(common->device)));
    print_measurements(measured);
    for (const auto& line : pipeline::measurements_json(measured)) std::cout << line.dump() << "\n";
  });
}

}  // namespace slimformer::tools
