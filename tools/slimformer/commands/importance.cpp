// slimformer importance: contribution and criticality scores of every sublayer (Wang & Tu 2020)
// of a model of any family on its natural metric, the removal curves, and a report with heat
// maps.
#include <fmt/format.h>

#include "command_line.h"
#include "commands.h"
#include "importance_setup.h"
#include "parallel_setup.h"
#include "slimformer/core/runtime.h"
#include "slimformer/eval/correlation.h"
#include "slimformer/pipeline/evaluation.h"
#include "slimformer/pipeline/importance_run.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

namespace {

void print_summary(const methods::ImportanceResult& r) {
  fmt::print("{} of the full model on {} examples: {:.3f}\n", r.metric, r.examples, r.baseline);
  fmt::print("{:<28} {:>5} {:>10} {:>8} {:>12} {:>11}\n", "sublayer", "kind", "when off", "drop",
             "contribution", "criticality");
  for (const auto& s : r.sublayers)
    fmt::print("{:<28} {:>5} {:>10.3f} {:>8.3f} {:>12.2f} {:>11.3f}\n", s.path, s.place.label,
               s.metric_off, s.drop, s.contribution, s.criticality);
  for (const char* by : {methods::kContribution, methods::kCriticality}) {
    if (!r.removal_curves.count(by)) continue;
    fmt::print("removal curve by {}:", by);
    for (const auto& p : r.removal_curves.at(by)) fmt::print(" k={} {:.2f}", p.k, p.value);
    fmt::print("\n");
  }
  if (r.removal_curves.size() == 2)
    fmt::print("Spearman(contribution, criticality) = {:.3f}\n",
               eval::spearman(r.scores(methods::kContribution), r.scores(methods::kCriticality)));
  fmt::print("{} evaluations in {:.0f} s\n", r.evaluations.size(), r.seconds);
}

}  // namespace

void register_importance(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "importance", "contribution and criticality score of every sublayer, with a report");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  options->add_positional("model", "model", "checkpoint directory");
  add_importance_options(*options);
  options->add("data.context", 0, "language models: tokens per scoring window (0: the model's)");
  options->add("output", "runs/importance", "where results and the report go", "--output");
  add_data_parallel_options(*options);
  cmd->callback([options, common] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    const std::filesystem::path out = s.get_string("output");
    // Several workers each score a share of the sublayers and of the removal curves' points.
    const auto parallel = data_parallel_from_settings(s, *common, out);
    std::shared_ptr<train::Collective> workers;
    if (parallel.enabled()) workers = train::Collective::join(parallel);
    const auto device = core::parse_device(common->device);
    const std::string model_dir = s.get_string("model");
    auto model = train::load_model(model_dir, device);
    if (model.init_from_seed)
      fmt::print("initial parameters regenerated from init_seed {}\n",
                 model.model->config().init_seed);
    auto evaluator = pipeline::make_evaluator(
        model, importance_evaluation(s, model.model->config(), device), model_dir);
    auto run_options = importance_run_options(s);
    run_options.scoring.workers = workers;
    // Criticality moves parameters toward their initial values; a model that does not know them
    // (an imported one) gets contribution scores only, unless criticality was asked for.
    if (model.init.empty() && s.origin("importance.scores") == "default") {
      fmt::print("{} has no initial parameters: contribution scores only\n", model_dir);
      run_options.scoring.criticality = false;
    }
    auto result = pipeline::run_importance(
        *model.model, model.init, *evaluator, run_options, out,
        {{"model", model_dir}, {"command", command_line()}, {"options", s.to_nested_json()}});
    print_summary(result);
    fmt::print("wrote {0}/results.json, {0}/scores.csv and {0}/report.html\n", out.string());
  });
}

}  // namespace slimformer::tools
