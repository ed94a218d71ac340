// The magnitude-pruning options shared by sparsify (--sparsity ...) and by pretrain and finetune
// (--prune S ...: gradual pruning during the run), and the hook they turn into.
#pragma once

#include "options.h"
#include "slimformer/methods/magnitude/gradual_pruning.h"
#include "slimformer/pipeline/training.h"

namespace slimformer::tools {

// The matrix choice (flags `prefix` + scope, by, seed, matrices, no-embeddings) and the
// schedule's steps (--prune-initial, --prune-begin, --prune-end, --prune-every); with
// `with_target`, --prune S as well (0: no pruning). Keys are prune.*.
void add_pruning_options(CommandOptions& options, bool with_target,
                         const std::string& prefix = "--prune-");

methods::MatrixChoice matrix_choice(const core::Settings& settings);

// The schedule to `target` within a run of `max_steps` updates (--prune-end 0: a tenth of the
// run, as the paper prunes over the first 10k of 100k steps).
methods::PruningSchedule pruning_schedule(const core::Settings& settings, double target,
                                          int64_t max_steps);

// Adds gradual pruning to `run` when --prune is above 0.
void add_pruning_hook(const core::Settings& settings, pipeline::TrainingRun& run);

}  // namespace slimformer::tools
