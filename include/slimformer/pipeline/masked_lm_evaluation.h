// How a masked-LM encoder is scored: masked-token accuracy, loss and perplexity on fixed sentence
// pairs, masked as pre-training's validation masks them (pipeline/evaluation.h's door for the
// masked-LM family).
#pragma once

#include <memory>
#include <string>

#include "slimformer/eval/model_evaluator.h"
#include "slimformer/pipeline/evaluation.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::pipeline {

// On the sentence pairs of options.text, or without it on the held-out pairs of the text the
// encoder's record says it was pre-trained (or distilled) on, batched as that run batched them.
// options.metric: accuracy (the default), loss or ppl; options.samples keeps the first N pairs.
std::unique_ptr<eval::ModelEvaluator> masked_lm_evaluator(const train::LoadedModel& model,
                                                          const EvaluationOptions& options,
                                                          const std::string& model_name);

}  // namespace slimformer::pipeline
