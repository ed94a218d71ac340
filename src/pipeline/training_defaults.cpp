#include "slimformer/pipeline/training_defaults.h"

#include <stdexcept>

namespace slimformer::pipeline {

const SettingValues& model_change_finetune_defaults() {
  static const SettingValues values = {
      {"train.schedule", "constant"},  {"train.lr", 3e-4},
      {"train.warmup_steps", 0},       {"train.clip_norm", 1.0},
      {"train.validate_every", 100},   {"train.bleu_samples", 300},
      {"train.label_smoothing", 0.1}};
  return values;
}

const SettingValues& encoder_finetune_defaults() {
  static const SettingValues values = {
      {"train.optimizer", "adamw"},  {"train.lr", 1e-4},          {"train.weight_decay", 0.01},
      {"train.schedule", "linear"},  {"train.warmup_steps", 100}, {"train.max_steps", 1000},
      {"train.max_tokens", 4096},    {"train.label_smoothing", 0.0},
      {"train.validate_every", 200}};
  return values;
}

const SettingValues& search_training_defaults() {
  static const SettingValues values = {
      {"train.optimizer", "adamw"}, {"train.lr", 5e-4},           {"train.weight_decay", 0.01},
      {"train.schedule", "linear"}, {"train.warmup_steps", 20},   {"train.max_tokens", 2048},
      {"train.clip_norm", 1.0},     {"train.label_smoothing", 0.0},
      {"train.validate_every", 300}};
  return values;
}

const SettingValues& training_defaults(const std::string& kind) {
  if (kind == "model_change") return model_change_finetune_defaults();
  if (kind == "encoder_finetune") return encoder_finetune_defaults();
  if (kind == "search") return search_training_defaults();
  throw std::invalid_argument("no training defaults named '" + kind +
                              "' (model_change, encoder_finetune or search)");
}

}  // namespace slimformer::pipeline
