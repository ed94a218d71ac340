#include "slimformer/pipeline/sparsify.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"

namespace slimformer::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

void SparsifyOptions::check() const {
  methods::check_sparsity(sparsity, "--sparsity");
  if (gradual && finetune_steps <= 0)
    throw core::UserError(
        "--prune-schedule gradual prunes while fine-tuning: give --finetune-steps N (N > 0)");
  if (gradual) schedule().check("--prune");
}

methods::PruningSchedule SparsifyOptions::schedule() const {
  methods::PruningSchedule s;
  s.initial = 0.0;
  s.target = sparsity;
  s.begin = prune_begin;
  s.end = prune_end > 0 ? prune_end : std::max<int64_t>(prune_begin + 1, finetune_steps / 2);
  s.every = prune_every;
  s.scope = scope;
  s.random = random;
  s.seed = seed;
  return s;
}

namespace {

json pruning_record(const SurgeryRun& run, const SparsifyOptions& o) {
  json record = run.record;
  record["sparsified_from"] = run.model_dir.string();
  record["sparsity"] = o.sparsity;
  record["sparsity_scope"] = o.scope == methods::PruningScope::kGlobal ? "global" : "per-matrix";
  record["sparsity_by"] = o.random ? "random" : "magnitude";
  record["sparsity_schedule"] = o.gradual ? "gradual" : "one-shot";
  return record;
}

// Removes dead neurons (when asked), notes what shrank, and saves the model to `dir`.
void finish_model(train::LoadedModel& model, const SparsifyOptions& o, const fs::path& dir,
                  const json& record, SparsifyOutcome& outcome) {
  if (o.remove_dead_neurons) {
    outcome.removed_neurons = methods::remove_dead_neurons(*model.model);
    for (const auto& r : outcome.removed_neurons)
      spdlog::info("{}: {} -> {} neurons (dead after pruning)", r.path, r.before, r.after);
  }
  save_changed_model(dir, model, record);
}

}  // namespace

SparsifyOutcome sparsify(const SurgeryRun& run, const SparsifyOptions& o) {
  o.check();
  SparsifyOutcome outcome;
  std::vector<NamedModel> models = {{"original", run.model_dir}};
  const fs::path sparse = run.out / "sparse";
  const std::string level = fmt::format("{:.0f}%", 100 * o.sparsity);
  if (!o.gradual) {
    if (needs_changed_model(run, sparse, "a sparsified model")) {
      auto model = train::load_model(run.model_dir, torch::kCPU);
      const auto names =
          methods::select_matrices(*model.model, o.matrices.patterns, o.matrices.embeddings);
      auto masks = o.random ? methods::random_masks(*model.model, names, o.sparsity, o.seed)
                            : methods::magnitude_masks(*model.model, names, o.sparsity, o.scope);
      methods::apply_masks(*model.model, masks);
      finish_model(model, o, sparse, pruning_record(run, o), outcome);
    }
    models.push_back({fmt::format("{} {}", o.random ? "random" : "magnitude", level), sparse});
    outcome.model = sparse;
    if (o.finetune_steps > 0) {
      // The zeros of the pruned model are held through every update.
      TrainingRun finetune = run.finetune;
      methods::PruningSchedule hold;
      hold.target = 0.0;
      hold.end = 1;
      finetune.train.hooks.push_back(
          std::make_shared<methods::GradualPruning>(hold, o.matrices, /*hold_zeros=*/true));
      outcome.model = finetune_to_model(sparse, run.out / "finetune", o.finetune_steps, run.data,
                                        finetune);
      models.push_back({fmt::format("{} + {} updates", models.back().first, o.finetune_steps),
                        outcome.model});
    }
  } else {
    const fs::path out = run.out / "finetune";
    if (needs_changed_model(run, sparse, "a sparsified model")) {
      TrainingRun finetune = run.finetune;
      finetune.train.output_dir = out;
      finetune.train.max_steps = o.finetune_steps;
      finetune.train.schedule.total_steps = o.finetune_steps;
      finetune.train.hooks.push_back(
          std::make_shared<methods::GradualPruning>(o.schedule(), o.matrices));
      finetune_checkpoint(run.model_dir, run.data, finetune);
      // The last checkpoint, not the best: only the last has reached the target sparsity.
      auto model = train::load_model(out / "last", torch::kCPU);
      model.stored_dtype = train::stored_dtype(run.model_dir);
      finish_model(model, o, sparse, pruning_record(run, o), outcome);
    }
    models.push_back(
        {fmt::format("{} {} gradual, {} updates", o.random ? "random" : "magnitude", level,
                     o.finetune_steps),
         sparse});
    outcome.model = sparse;
  }
  auto delivered = train::load_model(outcome.model, torch::kCPU);
  outcome.table = methods::sparsity_table(
      *delivered.model,
      methods::select_matrices(*delivered.model, o.matrices.patterns, o.matrices.embeddings));
  write_sparsity_table(outcome.table, run.out / "sparsity.tsv");
  outcome.measured = measure_models(models, run.measure);
  return outcome;
}

nlohmann::json sparsify_results(const SparsifyOutcome& outcome) {
  nlohmann::json table = nlohmann::json::array(), removed = nlohmann::json::array();
  for (const auto& row : outcome.table)
    table.push_back({{"matrix", row.name},
                     {"rows", row.rows},
                     {"cols", row.cols},
                     {"zeros", row.zeros},
                     {"sparsity", row.sparsity()}});
  for (const auto& r : outcome.removed_neurons)
    removed.push_back({{"sublayer", r.path}, {"before", r.before}, {"after", r.after}});
  return {{"delivered", outcome.model.string()},
          {"overall_sparsity", methods::overall_sparsity(outcome.table)},
          {"matrices", table},
          {"removed_neurons", removed}};
}

void write_sparsity_table(const std::vector<methods::MatrixSparsity>& table,
                          const fs::path& file) {
  std::ostringstream out;
  out << "matrix\trows\tcols\tzeros\tsparsity\n";
  int64_t zeros = 0;
  for (const auto& row : table) {
    out << fmt::format("{}\t{}\t{}\t{}\t{:.4f}\n", row.name, row.rows, row.cols, row.zeros,
                       row.sparsity());
    zeros += row.zeros;
  }
  out << fmt::format("all\t\t\t{}\t{:.4f}\n", zeros, methods::overall_sparsity(table));
  core::write_text_atomically(file, out.str());
}

}  // namespace slimformer::pipeline
