// The training settings each kind of run starts from where the user gives none, as
// "train.<option>" keys over the trainer's own defaults: one table, which the command line takes
// as its options' defaults and the Python module as its keyword defaults.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace slimformer::pipeline {

using SettingValues = std::vector<std::pair<std::string, nlohmann::json>>;

// The fine-tuning every command that changes a model ends with (prune-modules, rewind,
// sparsify, linearize, decompose): train.schedule, lr, warm-up, clipping, validation, BLEU
// sentences and label smoothing.
const SettingValues& model_change_finetune_defaults();
// `finetune` of an encoder on a task (GLUE, SQuAD, a text task): AdamW, linear decay.
const SettingValues& encoder_finetune_defaults();
// The FFN search's distillations.
const SettingValues& search_training_defaults();

// One of the three by name: "model_change", "encoder_finetune" or "search"; a
// std::invalid_argument naming the kinds otherwise.
const SettingValues& training_defaults(const std::string& kind);

}  // namespace slimformer::pipeline
