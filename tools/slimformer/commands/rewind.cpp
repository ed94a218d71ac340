// slimformer rewind: module rewinding (Wang & Tu 2020). Resets the k least important sublayers
// to their initial parameters, fine-tunes the whole model for a budget, and compares it with the
// original and with plain continued training of the original for the same budget.
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

void register_rewind(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "rewind", "reset the least important sublayers to their init and fine-tune (with control)");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  add_surgery_options(*options, "rewind", "runs/rewind");
  options->add("rewind.steps", 300, "fine-tuning updates after rewinding");
  options->add("rewind.control", true,
               "also continue training the original for the same updates (--control=false: skip)");
  cmd->callback([options, common] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    const auto run = surgery_run(s, *common, "rewind");
    const int64_t steps = s.get_int_at_least("rewind.steps", 1);
    auto measured = pipeline::rewind_modules(run, steps, s.get_bool("rewind.control"));
    print_measurements(measured);
    pipeline::write_measurement_report(
        measured, run.out, "slimformer rewind",
        fmt::format("{} with {} reset to their initial parameters and fine-tuned for {} updates, "
                    "against continued training of the original for the same updates; {}",
                    run.model_dir.string(), fmt::join(run.paths, ", "), steps,
                    measurement_description(run.measure)),
        {{"model", run.model_dir.string()},
         {"rewound", run.paths},
         {"steps", steps},
         {"command", command_line()},
         {"options", s.to_nested_json()}});
    fmt::print("wrote {0}/results.json and {0}/report.html\n", run.out.string());
  });
}

}  // namespace slimformer::tools
