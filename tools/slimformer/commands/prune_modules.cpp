// slimformer prune-modules: removes the k least important sublayers (or named ones) physically,
// optionally fine-tunes, and measures the result side by side with the original model.
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
    const auto device = core::parse_device(common->device);
    const fs::path model_dir = s.get_string("model"), out = s.get_string("output");
    const int64_t steps = s.get_int_at_least("prune.finetune_steps", 0);
    const auto paths = chosen_sublayers(s, "prune");
    if (needs_changed_model(s, out / "pruned", "a pruned model")) {
      auto ckpt = train::load_seq2seq(model_dir, torch::kCPU);
      const int64_t before = ckpt.model->num_parameters();
      methods::remove_sublayers(*ckpt.model, paths);
      fmt::print("removed {}: {} -> {} parameters\n", fmt::join(paths, ", "), before,
                 ckpt.model->num_parameters());
      save_changed_checkpoint(out / "pruned", ckpt, model_dir,
                              {{"pruned_from", model_dir.string()}, {"pruned_by", command_line()}});
    }
    std::vector<std::pair<std::string, fs::path>> models = {{"original", model_dir},
                                                            {"pruned", out / "pruned"}};
    if (steps > 0)
      models.push_back({fmt::format("pruned + {} updates", steps),
                        finetune(s, *common, out / "pruned", out / "finetune", steps)});

    measure_and_report(
        models, s, device, out, "slimformer prune-modules",
        fmt::format("{} with {} removed.", model_dir.string(), fmt::join(paths, ", ")),
        {{"model", model_dir.string()}, {"removed", paths}, {"finetune_steps", steps}});
  });
}

}  // namespace slimformer::tools
