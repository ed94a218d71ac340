// The linearize pipeline (Transformer to RNN, Kasai et al. 2021) for translation models and
// language models: convert chosen attention sublayers to linear attention, save the converted
// model, fine-tune it (every parameter, or only the converted sublayers' query, key and value
// projections and feature maps as the paper's attention-only option), fine-tune the original for
// the same updates as the control, and measure them all side by side.
#pragma once

#include <cstdint>
#include <vector>

#include "slimformer/methods/linearize/linearize.h"
#include "slimformer/pipeline/surgery.h"

namespace slimformer::pipeline {

struct LinearizeRunOptions {
  methods::LinearizeOptions conversion;
  int64_t finetune_steps = 0;   // 0: convert only
  bool attention_only = false;  // train only the converted attention's projections and maps
  bool control = true;          // also fine-tune the original softmax model for the same updates
};

struct LinearizeOutcome {
  std::vector<std::string> converted;  // sublayer paths
  std::filesystem::path model;         // the delivered model
  std::vector<MeasuredModel> measured;
};

// Runs into run.out: <out>/linearized (converted, not trained), <out>/finetune (its result in
// <out>/finetune/model), <out>/continued (the control); measures original, converted, fine-tuned
// and control side by side.
LinearizeOutcome linearize_model(const SurgeryRun& run, const LinearizeRunOptions& options);

}  // namespace slimformer::pipeline
