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
    const auto device = core::parse_device(common->device);
    const fs::path model_dir = s.get_string("model"), out = s.get_string("output");
    const int64_t steps = s.get_int_at_least("rewind.steps", 1);
    const auto paths = chosen_sublayers(s, "rewind");
    if (needs_changed_model(s, out / "rewound", "a rewound model")) {
      auto ckpt = train::load_seq2seq(model_dir, torch::kCPU);
      if (ckpt.init.empty())
        throw core::UserError(fmt::format(
            "{} has no initial parameters (init.safetensors or an init_seed record) to rewind to",
            model_dir.string()));
      methods::rewind_sublayers(*ckpt.model, ckpt.init, paths);
      fmt::print("rewound {} to their initial parameters\n", fmt::join(paths, ", "));
      save_changed_checkpoint(out / "rewound", ckpt, model_dir,
                              {{"rewound_from", model_dir.string()},
                               {"rewound_sublayers", paths},
                               {"rewound_by", command_line()}});
    }
    std::vector<std::pair<std::string, fs::path>> models = {{"original", model_dir},
                                                            {"rewound", out / "rewound"}};
    models.push_back({fmt::format("rewound + {} updates", steps),
                      finetune(s, *common, out / "rewound", out / "rewound-finetune", steps)});
    if (s.get_bool("rewind.control"))
      models.push_back({fmt::format("original + {} updates", steps),
                        finetune(s, *common, model_dir, out / "continued", steps)});

    measure_and_report(models, s, device, out, "slimformer rewind",
                       fmt::format("{} with {} reset to their initial parameters and fine-tuned "
                                   "for {} updates, against continued training of the original "
                                   "for the same updates.",
                                   model_dir.string(), fmt::join(paths, ", "), steps),
                       {{"model", model_dir.string()}, {"rewound", paths}, {"steps", steps}});
  });
}

}  // namespace slimformer::tools
