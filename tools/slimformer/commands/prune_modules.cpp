// slimformer prune-modules: removes the k least important sublayers (or named ones) of a model of
// any family physically, optionally fine-tunes, and measures the result side by side with the
// original model.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "command_line.h"
#include "commands.h"
#include "slimformer/core/error.h"
#include "slimformer/core/runtime.h"
#include "slimformer/methods/surgery/module_surgery.h"
#include "surgery_setup.h"

namespace slimformer::tools {

namespace fs = std::filesystem;

void register_prune_modules(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "prune-modules", "remove the least important sublayers, fine-tune, measure side by side");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  add_surgery_options(*options, "prune", "runs/prune");
  options->add("prune.finetune_steps", 0, "fine-tune the pruned model this many updates (0: no)");
  cmd->callback([options, common] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    const auto run = surgery_run(s, *common, "prune");
    const int64_t steps = s.get_int_at_least("prune.finetune_steps", 0);
    auto measured = pipeline::prune_modules(run, steps);
    print_measurements(measured);
    pipeline::write_measurement_report(
        measured, run.out, "slimformer prune-modules",
        fmt::format("{} with {} removed; {}", run.model_dir.string(), fmt::join(run.paths, ", "),
                    measurement_description(run.measure)),
        {{"model", run.model_dir.string()},
         {"removed", run.paths},
         {"delivered", measured.back().dir.string()},
         {"finetune_steps", steps},
         {"command", command_line()},
         {"options", s.to_nested_json()}});
    fmt::print("wrote {0}/results.json and {0}/report.html\n", run.out.string());
  });
}

}  // namespace slimformer::tools
