// Answering questions about passages with a span-QA encoder, for the cache and serve commands and
// for C++ callers: the full model on each question/passage window, or, for a decomposed encoder
// (DeFormer) with a passage cache, the lower layers on the question alone joined with the
// passage's cached layer-k states. Windows depend on the passage alone (question_independent), so
// a cached passage's windows are every question's windows.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slimformer/core/error.h"
#include "slimformer/data/passages.h"
#include "slimformer/methods/decompose/passage_cache.h"
#include "slimformer/models/encoder.h"
#include "slimformer/pipeline/squad_split.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::pipeline {

struct QaAnswer {
  std::string text;
  double score = 0;          // start + end logit of the span
  int64_t windows = 0;       // passage windows scored
  int64_t question_tokens = 0;  // [CLS] question [SEP]
  int64_t passage_tokens = 0;   // of all windows, each with its [SEP]
  double milliseconds = 0;   // model time, tokenization and cache reads included
  bool cached = false;       // the passage's states came from the cache
};

struct CacheBuildOptions {
  std::filesystem::path model_dir, passages_file, output;
  bool float16 = false;
  int64_t max_tokens = 4096;  // per batch of passage windows
  torch::Device device = torch::kCPU;
  std::function<void(int64_t done, int64_t total)> progress;
};

struct CacheReport {
  int64_t passages = 0, windows = 0, tokens = 0;
  int64_t entry_bytes = 0, file_bytes = 0;
  double seconds = 0;
  std::string dtype;
  nlohmann::json to_json() const;
};

// Runs every passage's windows through the lower layers of the decomposed model in
// options.model_dir and stores their layer-k states (methods/decompose/passage_cache.h). UserErrors:
// a model that is not decomposed (k = 0) or has no span head, an output that exists.
CacheReport build_passage_cache(const CacheBuildOptions& options);

// Thrown for a passage id no passage has (the server answers 404).
struct UnknownPassage : core::UserError {
  using core::UserError::UserError;
};

class QaService {
 public:
  // The model in `model_dir` (a span-QA encoder); `cache_dir` (may be empty) a passage cache
  // built for it; `passages_file` (may be empty) passages answered by id without a cache.
  // UserErrors: another family or head, a cache built for another model or k.
  QaService(const std::filesystem::path& model_dir, const std::filesystem::path& cache_dir,
            const std::filesystem::path& passages_file, torch::Device device = torch::kCPU);
  ~QaService();

  // A question about a passage by id: from the cache when there is one, otherwise computed
  // afresh from the passage's text. A UnknownPassage error when no passage has that id.
  QaAnswer answer_by_id(const std::string& question, const std::string& passage_id);
  // A question about a passage's text, computed afresh (the full model or the decomposed one).
  QaAnswer answer_text(const std::string& question, const std::string& passage);
  // The cached (or given) passage with this id, computed afresh (for comparing with the cache).
  QaAnswer answer_by_id_uncached(const std::string& question, const std::string& passage_id);

  bool has_cache() const { return cache_ != nullptr; }
  // Passage ids, cached or given, in order; their text.
  const std::vector<std::string>& passage_ids() const { return ids_; }
  std::string passage_text(const std::string& id) const;
  // The model, its k, the cache's record: for the server's /info.
  nlohmann::json describe() const;

  // One passage's windows with their layer-k states, as the cache stores them (a decomposed
  // model only).
  methods::CachedPassage passage_states(const data::Passage& passage);

  // The identity a cache must have to serve this model.
  methods::CacheIdentity cache_identity() const;
  const data::SquadWindowOptions& windows() const { return options_.windows; }

 private:
  QaAnswer answer_uncached_locked(const std::string& question, const std::string& passage);
  QaAnswer answer_cached_locked(const std::string& question, const methods::CachedPassage& cached);

  train::LoadedModel loaded_;
  models::EncoderModelImpl* model_ = nullptr;
  std::string model_name_, fingerprint_;
  SquadRunOptions options_;
  torch::Device device_;
  std::unique_ptr<methods::PassageCache> cache_;
  std::map<std::string, std::string> given_;  // passages_file: id -> text
  std::vector<std::string> ids_;
  std::mutex mutex_;  // one computation at a time: the model's weight products are shared
};

}  // namespace slimformer::pipeline
