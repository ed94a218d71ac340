// slimformer decompose: DeFormer (Cao et al. 2020). In an encoder fine-tuned on SQuAD or a
// sentence-pair GLUE task, the layers below k run on each segment alone; the decomposed model is
// fine-tuned from the original weights with distillation and layer-wise similarity to the
// original, beside a control fine-tuned with the task loss alone, and all are measured side by side.
#include <fmt/format.h>

#include "command_line.h"
#include "commands.h"
#include "options.h"
#include "slimformer/pipeline/decompose.h"
#include "surgery_setup.h"

namespace slimformer::tools {

void register_decompose(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "decompose", "run the lower k layers on question and passage apart (DeFormer), fine-tune");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  options->add_positional("model", "model",
                          "checkpoint directory (encoder fine-tuned on SQuAD or a pair task)");
  options->add("decompose.k", -1, "layers below the split, in [0, layers] (required)", "--k");
  options->add("decompose.finetune_steps", 300, "fine-tuning updates after the split (0: none)",
               "--finetune-steps");
  options->add("decompose.task_weight", 1.0, "weight of the task loss", "--task-weight");
  options->add("decompose.distill_weight", 1.0,
               "weight of the soft cross-entropy against the original", "--distill-weight");
  options->add("decompose.similarity_weight", 1.0,
               "weight of the upper layers' mean squared distance to the original's",
               "--similarity-weight");
  options->add("decompose.temperature", 2.0, "temperature of the soft targets", "--temperature");
  options->add("decompose.control", true,
               "also fine-tune with the task loss alone for the same updates (--control=false: "
               "skip)",
               "--control");
  add_test_options(*options);
  add_finetune_options(*options);
  options->set_default("output", "runs/decompose");
  cmd->callback([options, common] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    pipeline::DecomposeRunOptions o;
    if (s.get_int("decompose.k") == -1)
      throw core::UserError("--k is required: the layers below the split, in [0, layers]");
    o.k = s.get_int("decompose.k");
    o.finetune_steps = s.get_int_at_least("decompose.finetune_steps", 0);
    o.task_weight = s.get_double_in("decompose.task_weight", 0, 1e6, false);
    o.distill_weight = s.get_double_in("decompose.distill_weight", 0, 1e6, false);
    o.similarity_weight = s.get_double_in("decompose.similarity_weight", 0, 1e6, false);
    o.temperature = s.get_double_in("decompose.temperature", 1e-6, 1e6, false);
    o.control = s.get_bool("decompose.control");
    auto run = surgery_run_without_choice(s, *common);
    const auto outcome = pipeline::decompose_model(run, o);
    print_measurements(outcome.measured);
    pipeline::write_measurement_report(
        outcome.measured, run.out, "slimformer decompose",
        fmt::format("{} with its layers below {} run on each segment alone{}; {}",
                    run.model_dir.string(), o.k,
                    o.finetune_steps > 0
                        ? fmt::format(", fine-tuned for {} updates (task {}, distillation {} at "
                                      "T = {}, similarity {})",
                                      o.finetune_steps, o.task_weight, o.distill_weight,
                                      o.temperature, o.similarity_weight)
                        : "",
                    measurement_description(run.measure)),
        {{"model", run.model_dir.string()},
         {"k", o.k},
         {"delivered", outcome.model.string()},
         {"command", command_line()},
         {"options", s.to_nested_json()}});
    fmt::print("decomposed model in {}; wrote {}/results.json and {}/report.html\n",
               outcome.model.string(), run.out.string(), run.out.string());
  });
}

}  // namespace slimformer::tools
