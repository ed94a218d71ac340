// slimformer sparsify: magnitude weight pruning (Gordon et al. 2020) of a model of any family,
// once or gradually while fine-tuning, or random pruning at the same sparsity as the control;
// prints and saves the per-matrix sparsity, stores pruned matrices compressed, and measures the
// result side by side with the original (metric, size on disk, time).
#include "slimformer/pipeline/sparsify.h"

#include <fmt/format.h>

#include "command_line.h"
#include "commands.h"
#include "pruning_setup.h"
#include "surgery_setup.h"

namespace slimformer::tools {

namespace {

void print_table(const std::vector<methods::MatrixSparsity>& table) {
  size_t width = 6;
  for (const auto& row : table) width = std::max(width, row.name.size());
  fmt::print("{:<{}} {:>12} {:>9}\n", "matrix", width, "shape", "sparsity");
  for (const auto& row : table)
    fmt::print("{:<{}} {:>12} {:>8.1f}%\n", row.name, width,
               fmt::format("{}x{}", row.rows, row.cols), 100 * row.sparsity());
  fmt::print("{:<{}} {:>12} {:>8.1f}%\n", "all", width, "", 100 * methods::overall_sparsity(table));
}

}  // namespace

void register_sparsify(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "sparsify", "prune weights by magnitude, store them sparse, measure side by side");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  options->add_positional("model", "model", "checkpoint directory");
  options->add("sparsify.sparsity", 0.5, "fraction of the chosen weights set to zero, in [0, 1)",
               "--sparsity");
  options->add("sparsify.schedule", "one-shot",
               "one-shot (prune, then optionally fine-tune holding the zeros) or gradual "
               "(prune while fine-tuning, the cubic schedule)",
               "--prune-schedule");
  options->add("sparsify.keep_dead_neurons", false,
               "keep feed-forward neurons that pruning left without input or output",
               "--keep-dead-neurons");
  options->add("sparsify.finetune_steps", 0, "fine-tune this many updates (gradual: required)",
               "--finetune-steps");
  add_pruning_options(*options, /*with_target=*/false, "--");
  add_test_options(*options);
  add_finetune_options(*options);
  options->set_default("output", "runs/sparsify");
  cmd->callback([options, common] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    pipeline::SparsifyOptions o;
    o.sparsity = s.get_double("sparsify.sparsity");
    o.gradual = s.get_choice("sparsify.schedule", {"one-shot", "gradual"}) == "gradual";
    o.scope = methods::parse_pruning_scope(s.get_string("prune.scope"), "--scope");
    o.random = s.get_choice("prune.by", {"magnitude", "random"}) == "random";
    o.seed = static_cast<uint64_t>(s.get_int("prune.seed"));
    o.matrices = matrix_choice(s);
    o.remove_dead_neurons = !s.get_bool("sparsify.keep_dead_neurons");
    o.finetune_steps = s.get_int_at_least("sparsify.finetune_steps", 0);
    o.prune_begin = s.get_int("prune.begin");
    o.prune_end = s.get_int("prune.end");
    o.prune_every = s.get_int("prune.every");
    o.check();
    auto run = surgery_run_without_choice(s, *common);
    auto outcome = pipeline::sparsify(run, o);
    print_table(outcome.table);
    print_measurements(outcome.measured);
    auto results = pipeline::sparsify_results(outcome);
    results.update({{"model", run.model_dir.string()},
                    {"sparsity", o.sparsity},
                    {"command", command_line()},
                    {"options", s.to_nested_json()}});
    pipeline::write_measurement_report(
        outcome.measured, run.out, "slimformer sparsify",
        fmt::format("{} pruned to {:.0f}% sparsity ({}, {}, {}); {}", run.model_dir.string(),
                    100 * o.sparsity, o.random ? "random" : "magnitude",
                    s.get_string("prune.scope"), s.get_string("sparsify.schedule"),
                    measurement_description(run.measure)),
        results);
    fmt::print("wrote {0}/sparsity.tsv, {0}/results.json and {0}/report.html\n", run.out.string());
  });
}

}  // namespace slimformer::tools
