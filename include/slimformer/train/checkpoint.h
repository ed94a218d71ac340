// Checkpoints are directories readable without slimformer:
//   config.json          architecture (Hugging Face-like keys)
//   model.safetensors    parameters, keyed by model-tree path
//   init.safetensors     the initial parameters of the training run
//   tokenizer.model      the sentencepiece vocabulary (or tokenizer.bin, a llama2.c vocabulary)
//   slimformer.json      what produced it: command, options, metrics
//   training_state/      optimizer, progress and RNG state, for exact resume (training only)
// Every directory is written under a temporary name and renamed into place.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "slimformer/core/safetensors.h"
#include "slimformer/data/tokenizer.h"
#include "slimformer/data/vocab.h"
#include "slimformer/models/causal_lm.h"
#include "slimformer/models/encoder.h"
#include "slimformer/models/seq2seq.h"

namespace slimformer::train {

inline constexpr char kConfigFile[] = "config.json";
inline constexpr char kModelFile[] = "model.safetensors";
inline constexpr char kInitFile[] = "init.safetensors";
inline constexpr char kRecordFile[] = "slimformer.json";
inline constexpr char kTrainingStateDir[] = "training_state";
// slimformer.json "init" value of a checkpoint whose initial parameters are not stored because
// they are exactly those of a fresh model built from config.json (seeded by init_seed).
inline constexpr char kInitFromSeed[] = "init_seed";

struct Seq2SeqCheckpoint {
  models::Seq2SeqTransformer model{nullptr};
  data::Vocab vocab;
  core::TensorMap init;         // empty when the checkpoint has none
  bool init_from_seed = false;  // init regenerated from config.init_seed (no init.safetensors)
  nlohmann::json record;
};

// A loaded checkpoint of the causal LM or encoder family.
template <typename Model>
struct ModelCheckpoint {
  Model model{nullptr};
  std::shared_ptr<data::Tokenizer> tokenizer;
  core::TensorMap init;         // empty when the checkpoint has none
  bool init_from_seed = false;  // init regenerated from config.init_seed
  nlohmann::json record;
};
using CausalLMCheckpoint = ModelCheckpoint<models::CausalLM>;
using EncoderCheckpoint = ModelCheckpoint<models::EncoderModel>;

// A checkpoint of any family: what load_model returns.
struct LoadedModel {
  std::shared_ptr<models::ModelTree> model;
  std::shared_ptr<data::Tokenizer> tokenizer;
  core::TensorMap init;                              // empty when the checkpoint has none
  bool init_from_seed = false;                       // init regenerated from config.init_seed
  nlohmann::json record;                             // slimformer.json (null when absent)
  torch::ScalarType stored_dtype = torch::kFloat32;  // of model.safetensors
  // "seq2seq", "causal_lm" or "encoder".
  const std::string& family() const { return model->config().model_type; }
  // The model as its family's type, or null (for instance as<models::EncoderModelImpl>()).
  template <typename Impl>
  Impl* as() const {
    return dynamic_cast<Impl*>(model.get());
  }
};

// Loads a checkpoint of whatever family `dir` holds (a slimformer checkpoint of any family, or a
// Hugging Face BERT directory) onto `device`.
LoadedModel load_model(const std::filesystem::path& dir, const torch::Device& device);

// Saves `model` atomically as a checkpoint directory in `dtype`. Its init is recorded as the
// seed's rather than stored when it is exactly what the config's seed gives (removal keeps it so;
// a replaced block does not); otherwise `model.init` is written. `record` is merged over
// model.record.
void save_model(const std::filesystem::path& dir, const LoadedModel& model,
                const nlohmann::json& record, torch::ScalarType dtype);

// Loads a translation checkpoint onto `device`; float16/bfloat16 weights are widened to float32.
Seq2SeqCheckpoint load_seq2seq(const std::filesystem::path& dir, const torch::Device& device);
// Loads a causal language model checkpoint onto `device`, likewise.
CausalLMCheckpoint load_causal_lm(const std::filesystem::path& dir, const torch::Device& device);
// Loads an encoder onto `device`, from a slimformer checkpoint or a Hugging Face BERT directory
// (train/hf_bert.h). With `head` set ("mlm", "classification", "span"), the model gets that head,
// freshly initialized with `num_labels` outputs for classification, and only the shared body
// (embeddings, layers, pooler) is loaded: how a pre-trained encoder starts fine-tuning.
EncoderCheckpoint load_encoder(const std::filesystem::path& dir, const torch::Device& device,
                               const std::string& head = "", int64_t num_labels = 2);
// The storage type of the floating tensors in `dir`'s model.safetensors (float32 if none).
torch::ScalarType stored_dtype(const std::filesystem::path& dir);

// slimformer.json of `dir` (what produced the checkpoint), or null when it has none.
nlohmann::json read_record(const std::filesystem::path& dir);

// The model_type of a checkpoint directory (from its config.json; "encoder" for Hugging Face
// BERT).
std::string checkpoint_model_type(const std::filesystem::path& dir);

// Weights as every checkpoint file stores them: read back as float32 dense tensors (sparse
// matrices unpacked, kernels/sparse_storage.h), written in `dtype` with every matrix that is
// smaller compressed stored compressed. Writing is atomic.
core::TensorMap read_weights(const std::filesystem::path& file);
void write_weights(const std::filesystem::path& file, const core::TensorMap& tensors,
                   torch::ScalarType dtype);

// Writes the model files into `dir` (which must exist; callers write into a temporary
// directory). `dtype` is the storage type of the weights (float32 by default).
void write_model_files(const std::filesystem::path& dir, models::ModelTree& model,
                       const core::TensorMap& init, const data::Tokenizer& tokenizer,
                       const nlohmann::json& record, torch::ScalarType dtype = torch::kFloat32);

// The initial parameters of a model trained from scratch: a fresh model from the same config.
core::TensorMap regenerate_init(const models::TransformerConfig& config);

// Whether `init` holds exactly the initial parameters of a fresh model built from `config` (so a
// checkpoint can omit it and record kInitFromSeed); entries for parameters the model no longer
// has do not matter. Names the first differing tensor in `why`.
bool init_matches_seed(const core::TensorMap& init, const models::TransformerConfig& config,
                       std::string* why = nullptr);

// Converts every floating tensor to `dtype` on the CPU.
core::TensorMap cast_tensors(const core::TensorMap& tensors, torch::ScalarType dtype);

}  // namespace slimformer::train
