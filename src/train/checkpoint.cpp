#include "slimformer/train/checkpoint.h"

#include <fmt/format.h>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"

namespace slimformer::train {

namespace fs = std::filesystem;

core::TensorMap cast_tensors(const core::TensorMap& tensors, torch::ScalarType dtype) {
  core::TensorMap out;
  for (const auto& [key, t] : tensors)
    out[key] =
        t.is_floating_point() ? t.detach().to(torch::kCPU, dtype) : t.detach().to(torch::kCPU);
  return out;
}

Seq2SeqCheckpoint load_seq2seq(const fs::path& dir, const torch::Device& device) {
  if (!fs::is_directory(dir))
    throw core::UserError(fmt::format("{}: not a checkpoint directory", dir.string()));
  for (const char* required : {kConfigFile, kModelFile, kTokenizerFile})
    if (!fs::exists(dir / required))
      throw core::UserError(fmt::format("{}: checkpoint has no {}", dir.string(), required));
  Seq2SeqCheckpoint ckpt;
  auto config = models::TransformerConfig::load((dir / kConfigFile).string());
  ckpt.vocab = data::Vocab::load((dir / kTokenizerFile).string());
  if (ckpt.vocab.size() != config.vocab_size)
    throw core::UserError(
        fmt::format("{}: tokenizer has {} pieces but config.json vocab_size is {}", dir.string(),
                    ckpt.vocab.size(), config.vocab_size));
  ckpt.model = models::Seq2SeqTransformer(config);
  auto weights = core::load_safetensors(dir / kModelFile);
  ckpt.model->load_state(cast_tensors(weights, torch::kFloat32), (dir / kModelFile).string());
  if (fs::exists(dir / kRecordFile)) {
    try {
      ckpt.record = nlohmann::json::parse(core::read_file(dir / kRecordFile));
    } catch (const nlohmann::json::exception& e) {
      throw core::UserError(
          fmt::format("{}: malformed JSON: {}", (dir / kRecordFile).string(), e.what()));
    }
  }
  if (fs::exists(dir / kInitFile)) {
    ckpt.init = cast_tensors(core::load_safetensors(dir / kInitFile), torch::kFloat32);
  } else if (ckpt.record.is_object() && ckpt.record.value("init", "") == kInitFromSeed) {
    ckpt.init = regenerate_init(config);
    ckpt.init_from_seed = true;
  }
  ckpt.model->to(device);
  return ckpt;
}

core::TensorMap regenerate_init(const models::TransformerConfig& config) {
  models::Seq2SeqTransformer fresh(config);  // initialization depends only on config.init_seed
  return cast_tensors(fresh->state(), torch::kFloat32);
}

bool init_matches_seed(const core::TensorMap& init, const models::TransformerConfig& config,
                       std::string* why) {
  if (init.empty()) return false;
  auto fresh = regenerate_init(config);
  for (const auto& [key, tensor] : init) {
    if (!fresh.count(key) ||
        !torch::equal(fresh.at(key), tensor.to(torch::kCPU, torch::kFloat32))) {
      if (why) *why = key;
      return false;
    }
  }
  return true;
}

void write_model_files(const fs::path& dir, models::Seq2SeqTransformerImpl& model,
                       const core::TensorMap& init, const data::Vocab& vocab,
                       const nlohmann::json& record, torch::ScalarType dtype) {
  model.config().save((dir / kConfigFile).string());
  core::save_safetensors(dir / kModelFile, cast_tensors(model.state(), dtype));
  if (!init.empty()) {
    // Only the parameters the model still has: removed sublayers leave the init file too.
    core::TensorMap kept;
    auto state = model.state();
    for (const auto& [key, t] : init)
      if (state.count(key)) kept[key] = t;
    core::save_safetensors(dir / kInitFile, cast_tensors(kept, dtype));
  }
  fs::copy_file(vocab.path(), dir / kTokenizerFile, fs::copy_options::overwrite_existing);
  core::write_text_atomically(dir / kRecordFile, record.dump(2) + "\n");
}

}  // namespace slimformer::train
