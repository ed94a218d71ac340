// slimformer linearize: Transformer to RNN (Kasai et al. 2021). Converts chosen softmax attention
// sublayers of a translation model or language model to linear attention with a learned (t2r) or
// fixed (elu, rfa) feature map, fine-tunes the converted model, fine-tunes the original for the
// same updates as the control, and measures them side by side; the converted model decodes as an
// RNN with a fixed-size state per head.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "command_line.h"
#include "commands.h"
#include "options.h"
#include "slimformer/pipeline/linearize.h"
#include "surgery_setup.h"

namespace slimformer::tools {

void register_linearize(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "linearize", "swap softmax attention for linear attention, fine-tune, decode as an RNN");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  options->add_positional("model", "model", "checkpoint directory (translation model or LM)");
  options->add("linearize.sublayers", "",
               "attention sublayers to convert, path patterns (comma-separated; default: every "
               "attention of the decoder, 'decoder.**'; e.g. 'decoder.layers.*.self_attn')",
               "--sublayers");
  options->add("linearize.feature_map", "t2r",
               "t2r (learned relu(Wx+b)), elu (elu(x)+1) or rfa (random Fourier features)",
               "--feature-map");
  options->add("linearize.feature_dim", 32, "features per head (elu: the head dimension)",
               "--feature-dim");
  options->add("linearize.seed", 1, "seed of the new feature maps' values", "--map-seed");
  options->add("linearize.finetune_steps", 300, "fine-tuning updates after the swap (0: none)",
               "--finetune-steps");
  options->add("linearize.attention_only", false,
               "fine-tune only the converted sublayers' query, key and value projections and "
               "feature maps (the paper's attention-only option)",
               "--attention-only");
  options->add("linearize.control", true,
               "also fine-tune the original softmax model for the same updates (--control=false: "
               "skip)",
               "--control");
  add_test_options(*options);
  add_finetune_options(*options);
  options->set_default("output", "runs/linearize");
  cmd->callback([options, common] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    pipeline::LinearizeRunOptions o;
    o.conversion.sublayers = get_list(s, "linearize.sublayers");
    o.conversion.feature_map = s.get_string("linearize.feature_map");
    o.conversion.feature_dim = s.get_int("linearize.feature_dim");
    o.conversion.seed = static_cast<uint64_t>(s.get_int("linearize.seed"));
    o.conversion.check();
    methods::check_has_decoder(models::TransformerConfig::load(
        (std::filesystem::path(s.get_string("model")) / "config.json").string()));
    o.finetune_steps = s.get_int_at_least("linearize.finetune_steps", 0);
    o.attention_only = s.get_bool("linearize.attention_only");
    o.control = s.get_bool("linearize.control");
    auto run = surgery_run_without_choice(s, *common);
    const auto outcome = pipeline::linearize_model(run, o);
    print_measurements(outcome.measured);
    pipeline::write_measurement_report(
        outcome.measured, run.out, "slimformer linearize",
        fmt::format("{} with {} converted to linear attention ({} feature map, {} features per "
                    "head){}; {}",
                    run.model_dir.string(), fmt::join(outcome.converted, ", "),
                    o.conversion.feature_map, o.conversion.feature_dim,
                    o.finetune_steps > 0
                        ? fmt::format(", fine-tuned for {} updates{}", o.finetune_steps,
                                      o.attention_only ? " (attention only)" : "")
                        : "",
                    measurement_description(run.measure)),
        {{"model", run.model_dir.string()},
         {"converted", outcome.converted},
         {"delivered", outcome.model.string()},
         {"command", command_line()},
         {"options", s.to_nested_json()}});
    fmt::print("converted model in {}; wrote {}/results.json and {}/report.html\n",
               outcome.model.string(), run.out.string(), run.out.string());
  });
}

}  // namespace slimformer::tools
