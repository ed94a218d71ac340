// The sparsify pipeline (magnitude weight pruning, Gordon et al. 2020) for every family: prune
// chosen matrices by magnitude (or at random, the control) once or gradually while fine-tuning,
// remove the feed-forward neurons pruning left dead, save the model with its pruned matrices stored
// compressed, and measure it side by side with the original (metric, size on disk, time).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slimformer/methods/magnitude/dead_neurons.h"
#include "slimformer/methods/magnitude/gradual_pruning.h"
#include "slimformer/pipeline/surgery.h"

namespace slimformer::pipeline {

struct SparsifyOptions {
  double sparsity = 0.5;
  methods::PruningScope scope = methods::PruningScope::kPerMatrix;
  bool gradual = false;  // prune while fine-tuning (the cubic schedule) instead of once before
  bool random = false;   // the control: random weights at the same sparsity per matrix
  uint64_t seed = 1;     // of the random choice
  methods::MatrixChoice matrices;
  bool remove_dead_neurons = true;
  int64_t finetune_steps = 0;  // 0: none (one-shot only)
  // Gradual: the schedule's steps within the fine-tuning run (end 0: half of finetune_steps).
  int64_t prune_begin = 0, prune_end = 0, prune_every = 10;

  // UserErrors naming the flags for options that cannot work together.
  void check() const;
  methods::PruningSchedule schedule() const;
};

struct SparsifyOutcome {
  std::vector<methods::MatrixSparsity> table;  // of the delivered model
  std::vector<methods::RemovedNeurons> removed_neurons;
  std::filesystem::path model;  // the delivered model
  std::vector<MeasuredModel> measured;
};

// Runs sparsify into run.out: <out>/sparse (one-shot), <out>/finetune (fine-tuning, its result in
// <out>/finetune/model), <out>/sparsity.tsv (the per-matrix table of the delivered model).
SparsifyOutcome sparsify(const SurgeryRun& run, const SparsifyOptions& options);

// What a run delivered, as results.json records it: delivered (the model), overall_sparsity,
// matrices (matrix, rows, cols, zeros, sparsity) and removed_neurons (sublayer, before, after).
nlohmann::json sparsify_results(const SparsifyOutcome& outcome);

// Writes the per-matrix table as TSV: matrix, rows, cols, zeros, sparsity; a last "all" row.
void write_sparsity_table(const std::vector<methods::MatrixSparsity>& table,
                          const std::filesystem::path& file);

}  // namespace slimformer::pipeline
