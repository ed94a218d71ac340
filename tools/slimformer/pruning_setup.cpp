#include "pruning_setup.h"

#include <spdlog/spdlog.h>

namespace slimformer::tools {

void add_pruning_options(CommandOptions& options, bool with_target, const std::string& prefix) {
  if (with_target) {
    options.add("prune.sparsity", 0.0,
                "prune weights by magnitude during the run, gradually up to this sparsity (0: no)",
                "--prune");
    options.add("prune.keep_zeros", false,
                "hold the prunable weights that are zero in the loaded model (a model pruned "
                "before) at zero through every update",
                "--keep-zeros");
  }
  options.add("prune.scope", "per-matrix", "per-matrix thresholds or one global threshold",
              prefix + "scope");
  options.add("prune.by", "magnitude", "magnitude, or random (the control)", prefix + "by");
  // Plain "--seed" is the trainer's.
  options.add("prune.seed", 1, "seed of the random choice (" + prefix + "by random)",
              prefix == "--" ? "--choice-seed" : prefix + "seed");
  options.add("prune.matrices", "",
              "only the matrices matching these patterns (comma-separated, e.g. "
              "'encoder.layers.*.ffn.**'; default: attention, feed-forward, pooler, embeddings)",
              prefix + "matrices");
  options.add("prune.no_embeddings", false, "leave the word embeddings dense",
              prefix + "no-embeddings");
  options.add("prune.initial", 0.0, "sparsity at --prune-begin", "--prune-initial");
  options.add("prune.begin", 0, "update at which gradual pruning starts", "--prune-begin");
  options.add("prune.end", 0,
              "update at which the target sparsity is reached (0: a tenth of the run for "
              "pretrain/finetune, half of it for sparsify)",
              "--prune-end");
  options.add("prune.every", 10, "updates between mask recomputations", "--prune-every");
}

methods::MatrixChoice matrix_choice(const core::Settings& s) {
  return {get_list(s, "prune.matrices"), !s.get_bool("prune.no_embeddings")};
}

methods::PruningSchedule pruning_schedule(const core::Settings& s, double target,
                                          int64_t max_steps) {
  methods::PruningSchedule schedule;
  schedule.target = target;
  schedule.initial = s.get_double("prune.initial");
  schedule.begin = s.get_int("prune.begin");
  schedule.end = s.get_int("prune.end");
  if (schedule.end == 0) schedule.end = std::max<int64_t>(schedule.begin + 1, max_steps / 10);
  schedule.every = s.get_int("prune.every");
  schedule.scope = methods::parse_pruning_scope(s.get_string("prune.scope"), "--prune-scope");
  schedule.random = s.get_choice("prune.by", {"magnitude", "random"}) == "random";
  schedule.seed = static_cast<uint64_t>(s.get_int("prune.seed"));
  return schedule;
}

void add_pruning_hook(const core::Settings& s, pipeline::TrainingRun& run) {
  const double target = s.get_double("prune.sparsity");
  const bool keep_zeros = s.get_bool("prune.keep_zeros");
  if (target == 0.0 && !keep_zeros) return;
  auto schedule = pruning_schedule(s, target, run.train.max_steps);
  schedule.check("--prune");
  if (keep_zeros) spdlog::info("holding the loaded model's zero weights at zero");
  if (target > 0)
    spdlog::info("gradual pruning to {:.0f}% sparsity from update {} to {}, every {}",
                 100 * target, schedule.begin, schedule.end, schedule.every);
  run.train.hooks.push_back(
      std::make_shared<methods::GradualPruning>(schedule, matrix_choice(s), keep_zeros));
  run.record["prune"] = {{"sparsity", target},
                         {"keep_zeros", keep_zeros},
                         {"begin", schedule.begin},
                         {"end", schedule.end},
                         {"every", schedule.every},
                         {"scope", s.get_string("prune.scope")},
                         {"by", s.get_string("prune.by")}};
}

}  // namespace slimformer::tools
