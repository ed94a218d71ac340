#include "slimformer/train/checkpoint.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/kernels/sparse_storage.h"
#include "slimformer/train/hf_bert.h"

namespace slimformer::train {

namespace fs = std::filesystem;

core::TensorMap cast_tensors(const core::TensorMap& tensors, torch::ScalarType dtype) {
  core::TensorMap out;
  for (const auto& [key, t] : tensors)
    out[key] =
        t.is_floating_point() ? t.detach().to(torch::kCPU, dtype) : t.detach().to(torch::kCPU);
  return out;
}

namespace {

// What every checkpoint directory holds, read and checked before a model is built from it.
struct CheckpointFiles {
  models::TransformerConfig config;
  std::shared_ptr<data::Tokenizer> tokenizer;
  core::TensorMap weights;
  core::TensorMap init;
  bool init_from_seed = false;
  nlohmann::json record;
};

void require_directory(const fs::path& dir) {
  if (!fs::is_directory(dir))
    throw core::UserError(fmt::format("{}: not a checkpoint directory", dir.string()));
  for (const char* required : {kConfigFile, kModelFile})
    if (!fs::exists(dir / required))
      throw core::UserError(fmt::format("{}: checkpoint has no {}", dir.string(), required));
}

}  // namespace

nlohmann::json read_record(const fs::path& dir) {
  if (!fs::exists(dir / kRecordFile)) return nullptr;
  try {
    return nlohmann::json::parse(core::read_file(dir / kRecordFile));
  } catch (const nlohmann::json::exception& e) {
    throw core::UserError(
        fmt::format("{}: malformed JSON: {}", (dir / kRecordFile).string(), e.what()));
  }
}

core::TensorMap read_weights(const fs::path& file) {
  core::Metadata metadata;
  auto tensors = core::load_safetensors(file, &metadata);
  return cast_tensors(kernels::unpack_sparse(std::move(tensors), metadata, file.string()),
                      torch::kFloat32);
}

void write_weights(const fs::path& file, const core::TensorMap& tensors, torch::ScalarType dtype) {
  core::Metadata metadata;
  auto stored = kernels::pack_sparse(cast_tensors(tensors, dtype), dtype, metadata);
  core::save_safetensors(file, stored, metadata);
}

namespace {

CheckpointFiles read_checkpoint_files(const fs::path& dir) {
  require_directory(dir);
  CheckpointFiles files;
  files.config = models::TransformerConfig::load((dir / kConfigFile).string());
  files.tokenizer = data::load_checkpoint_tokenizer(dir);
  if (files.tokenizer->size() != files.config.vocab_size)
    throw core::UserError(
        fmt::format("{}: tokenizer has {} pieces but config.json vocab_size is {}", dir.string(),
                    files.tokenizer->size(), files.config.vocab_size));
  files.weights = read_weights(dir / kModelFile);
  files.record = read_record(dir);
  if (fs::exists(dir / kInitFile)) {
    files.init = read_weights(dir / kInitFile);
  } else if (files.record.is_object() && files.record.value("init", "") == kInitFromSeed) {
    files.init_from_seed = true;  // the loader keeps its new model's parameters before loading
  }
  return files;
}

void expect_model_type(const CheckpointFiles& files, const fs::path& dir, const char* expected,
                       const char* what) {
  if (files.config.model_type != expected)
    throw core::UserError(fmt::format("{}: model_type {} is not {} (expected model_type {})",
                                      dir.string(), files.config.model_type, what, expected));
}

}  // namespace

EncoderCheckpoint load_encoder(const fs::path& dir, const torch::Device& device,
                               const std::string& head, int64_t num_labels) {
  CheckpointFiles files;
  if (is_hf_bert(dir)) {
    require_directory(dir);
    auto hf = read_hf_bert(dir);
    files.config = hf.config, files.weights = std::move(hf.tensors), files.tokenizer = hf.tokenizer;
    // A directory slimformer exported keeps its provenance (the fine-tuning options) beside.
    files.record = read_record(dir);
  } else {
    files = read_checkpoint_files(dir);
    expect_model_type(files, dir, "encoder", "an encoder");
  }
  auto config = files.config;
  const bool new_head =
      !head.empty() && (head != config.encoder_head ||
                        (head == "classification" && num_labels != config.num_labels));
  if (!head.empty()) config.encoder_head = head, config.num_labels = num_labels;
  EncoderCheckpoint ckpt{
      models::EncoderModel(config), files.tokenizer, {}, false, std::move(files.record)};
  // Without a new head the fresh model is the file's config's: its parameters are the seed's init.
  if (files.init_from_seed && !new_head) files.init = ckpt.model->copy_state();
  // The body from the file; a new head keeps its fresh initialization, an absent one (a
  // Hugging Face BertModel without heads) too.
  core::TensorMap state = cast_tensors(ckpt.model->state(), torch::kFloat32);
  const std::string source = (dir / kModelFile).string();
  for (auto& [name, tensor] : state) {
    const bool head_parameter = name.starts_with("mlm_") || name.starts_with("classifier.") ||
                                name.starts_with("span_head.");
    auto it = files.weights.find(name);
    if (it != files.weights.end() && !(head_parameter && new_head)) {
      if (!it->second.sizes().equals(tensor.sizes()))
        throw core::UserError(fmt::format("{}: tensor {} has shape {}, the model needs {}", source,
                                          name, fmt::join(it->second.sizes(), "x"),
                                          fmt::join(tensor.sizes(), "x")));
      tensor = it->second;
    } else if (it == files.weights.end() && !head_parameter) {
      throw core::UserError(fmt::format("{}: missing tensor {}", source, name));
    }
  }
  ckpt.model->load_state(state, source);
  if (!new_head) ckpt.init = std::move(files.init), ckpt.init_from_seed = files.init_from_seed;
  ckpt.model->to(device);
  return ckpt;
}

std::string checkpoint_model_type(const fs::path& dir) {
  if (is_hf_bert(dir)) return "encoder";
  require_directory(dir);
  return models::TransformerConfig::load((dir / kConfigFile).string()).model_type;
}

Seq2SeqCheckpoint load_seq2seq(const fs::path& dir, const torch::Device& device) {
  CheckpointFiles files = read_checkpoint_files(dir);
  expect_model_type(files, dir, "seq2seq", "a translation model");
  auto vocab = std::dynamic_pointer_cast<data::Vocab>(files.tokenizer);
  if (!vocab)
    throw core::UserError(fmt::format("{}: a translation model needs a sentencepiece {}",
                                      dir.string(), data::Vocab::kFileName));
  Seq2SeqCheckpoint ckpt{models::Seq2SeqTransformer(files.config), *vocab, std::move(files.init),
                         files.init_from_seed, std::move(files.record)};
  if (ckpt.init_from_seed) ckpt.init = ckpt.model->copy_state();
  ckpt.model->load_state(files.weights, (dir / kModelFile).string());
  ckpt.model->to(device);
  return ckpt;
}

CausalLMCheckpoint load_causal_lm(const fs::path& dir, const torch::Device& device) {
  CheckpointFiles files = read_checkpoint_files(dir);
  expect_model_type(files, dir, "causal_lm", "a causal language model");
  CausalLMCheckpoint ckpt{models::CausalLM(files.config), files.tokenizer, std::move(files.init),
                          files.init_from_seed, std::move(files.record)};
  if (ckpt.init_from_seed) ckpt.init = ckpt.model->copy_state();
  ckpt.model->load_state(files.weights, (dir / kModelFile).string());
  ckpt.model->to(device);
  return ckpt;
}

torch::ScalarType stored_dtype(const fs::path& dir) {
  const fs::path file = dir / kModelFile;
  if (!fs::exists(file)) return torch::kFloat32;
  for (const auto& [key, dtype] : core::safetensors_dtypes(file))
    if (c10::isFloatingType(dtype)) return dtype;
  return torch::kFloat32;
}

LoadedModel load_model(const fs::path& dir, const torch::Device& device) {
  const std::string family = checkpoint_model_type(dir);
  LoadedModel out;
  if (family == "seq2seq") {
    auto ckpt = load_seq2seq(dir, device);
    out = {ckpt.model.ptr(), std::make_shared<data::Vocab>(ckpt.vocab), std::move(ckpt.init),
           ckpt.init_from_seed, std::move(ckpt.record)};
  } else if (family == "causal_lm") {
    auto ckpt = load_causal_lm(dir, device);
    out = {ckpt.model.ptr(), ckpt.tokenizer, std::move(ckpt.init), ckpt.init_from_seed,
           std::move(ckpt.record)};
  } else {
    auto ckpt = load_encoder(dir, device);
    out = {ckpt.model.ptr(), ckpt.tokenizer, std::move(ckpt.init), ckpt.init_from_seed,
           std::move(ckpt.record)};
  }
  out.stored_dtype = stored_dtype(dir);
  return out;
}

void save_model(const fs::path& dir, const LoadedModel& model, const nlohmann::json& record,
                torch::ScalarType dtype) {
  nlohmann::json full = model.record.is_object() ? model.record : nlohmann::json::object();
  // The chain that produced the model it came from is not this model's (a chain records its
  // own after each step: pipeline/compress.h).
  full.erase("compression_chain");
  full.update(record);
  const bool seeded = init_matches_seed(model.init, model.model->config());
  const core::TensorMap no_init;
  if (seeded)
    full["init"] = kInitFromSeed;
  else
    full.erase("init");
  core::write_directory_atomically(dir, [&](const fs::path& tmp) {
    write_model_files(tmp, *model.model, seeded ? no_init : model.init, *model.tokenizer, full,
                      dtype);
  });
}

core::TensorMap regenerate_init(const models::TransformerConfig& config) {
  // Initialization depends only on config.init_seed.
  return cast_tensors(models::build_model(config)->state(), torch::kFloat32);
}

bool init_matches_seed(const core::TensorMap& init, const models::TransformerConfig& config,
                       std::string* why) {
  if (init.empty()) return false;
  // Every parameter of a fresh model must be there with its value; entries of removed
  // sublayers are irrelevant, as checkpoints leave them out.
  for (const auto& [key, value] : regenerate_init(config)) {
    auto it = init.find(key);
    if (it == init.end() || !torch::equal(value, it->second.to(torch::kCPU, torch::kFloat32))) {
      if (why) *why = key;
      return false;
    }
  }
  return true;
}

void write_model_files(const fs::path& dir, models::ModelTree& model, const core::TensorMap& init,
                       const data::Tokenizer& tokenizer, const nlohmann::json& record,
                       torch::ScalarType dtype) {
  model.config().save((dir / kConfigFile).string());
  write_weights(dir / kModelFile, model.state(), dtype);
  if (!init.empty()) {
    // Only the parameters the model still has: removed sublayers leave the init file too.
    core::TensorMap kept;
    auto state = model.state();
    for (const auto& [key, t] : init)
      if (state.count(key)) kept[key] = t;
    write_weights(dir / kInitFile, kept, dtype);
  }
  tokenizer.save_to(dir);
  core::write_text_atomically(dir / kRecordFile, record.dump(2) + "\n");
}

}  // namespace slimformer::train
