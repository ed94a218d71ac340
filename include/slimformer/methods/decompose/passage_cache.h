// The passage cache of a decomposed encoder: every passage's layer-k states, per passage window,
// in an LMDB environment (one directory), keyed by passage id, in float32 or float16. The cache
// records what it is valid for (the model's fingerprint, k, the windows); a cache built for
// another model or k is refused, never used. Every entry carries a checksum: a corrupt entry is
// a UserError naming the passage.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace slimformer::methods {

struct CachedWindow {
  int64_t passage_offset = 0, length = 0;  // passage tokens [offset, offset + length)
  std::vector<int64_t> tokens;             // the window's segment: its passage tokens and [SEP]
  torch::Tensor states;                    // [tokens, D], float32 when read
};

struct CachedPassage {
  std::string id, text;
  std::vector<CachedWindow> windows;
};

// An entry as stored: magic, header (JSON: id, text, dtype, windows), the states, a checksum.
std::string encode_passage(const CachedPassage& passage, torch::Dtype dtype);
// A UserError "<source>: the entry of passage '<id>' is corrupt (...)" when the bytes are not a
// whole, unaltered entry of that passage.
CachedPassage decode_passage(const std::string& bytes, const std::string& id,
                             const std::string& source);

// What a cache is valid for: compared key by key with what the serving model expects.
struct CacheIdentity {
  std::string model_fingerprint;  // core::fingerprint of the model's parameters
  int64_t separate_layers = 0;
  int64_t d_model = 0;
  int64_t max_length = 0, doc_stride = 0, max_query_length = 0;
  int64_t passage_start = 0;  // where each window's first token sat in the lower layers

  nlohmann::json to_json() const;
  static CacheIdentity from_json(const nlohmann::json& j, const std::string& source);
};

// Builds a cache in `dir` + ".partial" and renames it to `dir` when finished, so a cache
// directory is always whole. A UserError when `dir` exists.
class PassageCacheWriter {
 public:
  PassageCacheWriter(const std::filesystem::path& dir, const CacheIdentity& identity,
                     torch::Dtype dtype);
  ~PassageCacheWriter();
  PassageCacheWriter(const PassageCacheWriter&) = delete;
  PassageCacheWriter& operator=(const PassageCacheWriter&) = delete;

  void put(const CachedPassage& passage);
  // Stores bytes as they are under `id` (encode_passage's output; tests use it to store damage).
  void put_bytes(const std::string& id, const std::string& bytes);
  // Commits, records the identity and entry count, and moves the cache into place.
  void finish();

 private:
  struct Env;
  std::unique_ptr<Env> env_;
  std::filesystem::path dir_, partial_;
  CacheIdentity identity_;
  torch::Dtype dtype_;
  int64_t entries_ = 0, bytes_ = 0;
};

// A finished cache, read-only; safe to read from several threads at once.
class PassageCache {
 public:
  // UserErrors: no cache in `dir`, an unreadable record.
  explicit PassageCache(const std::filesystem::path& dir);
  ~PassageCache();

  const CacheIdentity& identity() const { return identity_; }
  const nlohmann::json& record() const { return record_; }  // identity, dtype, entries, bytes
  // A UserError naming the first field that differs: "cache runs/c was built for another model
  // (fingerprint 0123..., this model 4567...)", "... for k = 2, this model has k = 3".
  void require(const CacheIdentity& expected, const std::string& model_name) const;

  // The passage, or nothing when the cache has no such id; a UserError when its entry is
  // corrupt.
  std::optional<CachedPassage> get(const std::string& id) const;
  std::vector<std::string> ids() const;

 private:
  struct Env;
  std::unique_ptr<Env> env_;
  std::filesystem::path dir_;
  CacheIdentity identity_;
  nlohmann::json record_;
};

}  // namespace slimformer::methods
