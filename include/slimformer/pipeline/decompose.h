// The decompose pipeline (DeFormer, Cao et al. 2020) for encoders fine-tuned on a pair task
// (SQuAD spans, sentence-pair GLUE): set the split k, save the decomposed model, fine-tune it from
// the original weights with the task loss plus distillation from the original (soft
// cross-entropy at a temperature) and the layer-wise similarity of the upper layers' states (mean
// squared distance, averaged over the upper layers), fine-tune it alike with the task loss alone
// as the control, and measure them all side by side.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "slimformer/pipeline/surgery.h"

namespace slimformer::pipeline {

struct DecomposeRunOptions {
  int64_t k = 0;
  int64_t finetune_steps = 0;  // 0: decompose only
  // The loss: task_weight * task + distill_weight * T^2 * soft CE + similarity_weight * mean of
  // the upper layers' MSE (the paper's code: all weights 1, T = 2).
  double task_weight = 1.0, distill_weight = 1.0, similarity_weight = 1.0;
  double temperature = 2.0;
  bool control = true;  // also fine-tune with the task loss alone for the same updates
};

struct DecomposeOutcome {
  std::filesystem::path model;  // the delivered model
  std::vector<MeasuredModel> measured;
};

// Runs into run.out: <out>/decomposed (k set, not trained), <out>/finetune (with the auxiliary
// losses; its result in <out>/finetune/model), <out>/task-only (the control); measures original,
// decomposed, control and fine-tuned side by side. The pinned refusals of
// methods::check_decomposable come before anything runs.
DecomposeOutcome decompose_model(const SurgeryRun& run, const DecomposeRunOptions& options);

}  // namespace slimformer::pipeline
