#include "slimformer/methods/decompose/passage_cache.h"

#include <fmt/format.h>
#include <lmdb.h>

#include <cstring>

#include "slimformer/core/checksum.h"
#include "slimformer/core/error.h"

namespace slimformer::methods {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr char kMagic[4] = {'S', 'F', 'P', 'C'};
constexpr uint32_t kVersion = 1;
constexpr const char* kMetaKey = "cache";
// LMDB reserves address space, not disk: the file grows with what is stored.
constexpr size_t kMapSize = size_t(1) << 38;

void check_lmdb(int rc, const fs::path& dir, const char* what) {
  if (rc != MDB_SUCCESS)
    throw core::UserError(fmt::format("{}: {}: {}", dir.string(), what, mdb_strerror(rc)));
}

template <typename T>
void append(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
T read_at(const std::string& bytes, size_t at) {
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof value);
  return value;
}

MDB_val as_val(const std::string& s) { return {s.size(), const_cast<char*>(s.data())}; }

}  // namespace

std::string encode_passage(const CachedPassage& passage, torch::Dtype dtype) {
  json header = {{"id", passage.id},
                 {"text", passage.text},
                 {"dtype", dtype == torch::kFloat16 ? "float16" : "float32"},
                 {"windows", json::array()}};
  int64_t width = 0;
  for (const auto& w : passage.windows) {
    header["windows"].push_back(
        {{"passage_offset", w.passage_offset}, {"length", w.length}, {"tokens", w.tokens}});
    width = w.states.size(1);
  }
  header["d_model"] = width;
  const std::string text = header.dump();
  std::string out(kMagic, 4);
  append(out, kVersion);
  append(out, uint32_t(text.size()));
  out += text;
  for (const auto& w : passage.windows) {
    torch::Tensor states = w.states.detach().to(torch::kCPU, dtype).contiguous();
    out.append(static_cast<const char*>(states.data_ptr()), states.nbytes());
  }
  append(out, core::fnv1a(out.data(), out.size()));
  return out;
}

CachedPassage decode_passage(const std::string& bytes, const std::string& id,
                             const std::string& source) {
  auto corrupt = [&](const std::string& why) {
    return core::UserError(
        fmt::format("{}: the entry of passage '{}' is corrupt ({})", source, id, why));
  };
  const size_t fixed = 4 + 2 * sizeof(uint32_t), tail = sizeof(uint64_t);
  if (bytes.size() < fixed + tail || std::memcmp(bytes.data(), kMagic, 4) != 0)
    throw corrupt("not a passage entry");
  const uint64_t sum = read_at<uint64_t>(bytes, bytes.size() - tail);
  if (core::fnv1a(bytes.data(), bytes.size() - tail) != sum) throw corrupt("checksum mismatch");
  if (read_at<uint32_t>(bytes, 4) != kVersion) throw corrupt("unknown entry version");
  const size_t header_size = read_at<uint32_t>(bytes, 8);
  if (fixed + header_size + tail > bytes.size()) throw corrupt("header past the end");
  CachedPassage passage;
  try {
    const json header = json::parse(bytes.substr(fixed, header_size));
    passage.id = header.at("id").get<std::string>();
    passage.text = header.at("text").get<std::string>();
    const bool half = header.at("dtype").get<std::string>() == "float16";
    const int64_t width = header.at("d_model").get<int64_t>();
    size_t at = fixed + header_size;
    for (const auto& w : header.at("windows")) {
      CachedWindow window;
      window.passage_offset = w.at("passage_offset").get<int64_t>();
      window.length = w.at("length").get<int64_t>();
      window.tokens = w.at("tokens").get<std::vector<int64_t>>();
      const int64_t rows = int64_t(window.tokens.size());
      const size_t size = size_t(rows * width) * (half ? 2 : 4);
      if (rows < 1 || width < 1 || at + size + tail > bytes.size())
        throw corrupt("states past the end");
      torch::Tensor states =
          torch::empty({rows, width}, half ? torch::kFloat16 : torch::kFloat32);
      std::memcpy(states.data_ptr(), bytes.data() + at, size);
      at += size;
      window.states = states.to(torch::kFloat32);
      passage.windows.push_back(std::move(window));
    }
    if (at + tail != bytes.size()) throw corrupt("trailing bytes");
  } catch (const json::exception& e) {
    throw corrupt(e.what());
  }
  if (passage.id != id) throw corrupt(fmt::format("it holds passage '{}'", passage.id));
  return passage;
}

json CacheIdentity::to_json() const {
  return {{"model_fingerprint", model_fingerprint},
          {"separate_layers", separate_layers},
          {"d_model", d_model},
          {"max_length", max_length},
          {"doc_stride", doc_stride},
          {"max_query_length", max_query_length},
          {"passage_start", passage_start}};
}

CacheIdentity CacheIdentity::from_json(const json& j, const std::string& source) {
  CacheIdentity c;
  try {
    c.model_fingerprint = j.at("model_fingerprint").get<std::string>();
    c.separate_layers = j.at("separate_layers").get<int64_t>();
    c.d_model = j.at("d_model").get<int64_t>();
    c.max_length = j.at("max_length").get<int64_t>();
    c.doc_stride = j.at("doc_stride").get<int64_t>();
    c.max_query_length = j.at("max_query_length").get<int64_t>();
    c.passage_start = j.at("passage_start").get<int64_t>();
  } catch (const json::exception& e) {
    throw core::UserError(fmt::format("{}: the cache record is unreadable ({})", source, e.what()));
  }
  return c;
}

// One LMDB environment with its two databases: "passages" (id -> entry) and "meta".
struct LmdbEnv {
  MDB_env* env = nullptr;
  MDB_dbi passages = 0, meta = 0;
  fs::path dir;

  LmdbEnv(const fs::path& at, bool writable) : dir(at) {
    check_lmdb(mdb_env_create(&env), dir, "cannot create an LMDB environment");
    mdb_env_set_maxdbs(env, 2);
    mdb_env_set_mapsize(env, kMapSize);
    const unsigned flags = writable ? unsigned(MDB_NOSYNC) : unsigned(MDB_RDONLY | MDB_NOTLS);
    const int rc = mdb_env_open(env, dir.c_str(), flags, 0644);
    if (rc != MDB_SUCCESS) {
      mdb_env_close(env);
      env = nullptr;
      check_lmdb(rc, dir, "cannot open the passage cache");
    }
    MDB_txn* txn = nullptr;
    check_lmdb(mdb_txn_begin(env, nullptr, writable ? 0 : MDB_RDONLY, &txn), dir, "begin");
    const unsigned create = writable ? MDB_CREATE : 0u;
    int a = mdb_dbi_open(txn, "passages", create, &passages);
    int b = a == MDB_SUCCESS ? mdb_dbi_open(txn, "meta", create, &meta) : a;
    if (b != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      check_lmdb(b, dir, "not a passage cache");
    }
    check_lmdb(mdb_txn_commit(txn), dir, "commit");
  }
  ~LmdbEnv() {
    if (env) mdb_env_close(env);
  }

  void put(MDB_dbi db, const std::string& key, const std::string& value) {
    MDB_txn* txn = nullptr;
    check_lmdb(mdb_txn_begin(env, nullptr, 0, &txn), dir, "begin");
    MDB_val k = as_val(key), v = as_val(value);
    const int rc = mdb_put(txn, db, &k, &v, 0);
    if (rc != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      check_lmdb(rc, dir, "cannot store an entry");
    }
    check_lmdb(mdb_txn_commit(txn), dir, "commit");
  }

  std::optional<std::string> get(MDB_dbi db, const std::string& key) const {
    MDB_txn* txn = nullptr;
    check_lmdb(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), dir, "begin");
    MDB_val k = as_val(key), v;
    const int rc = mdb_get(txn, db, &k, &v);
    std::optional<std::string> out;
    if (rc == MDB_SUCCESS) out.emplace(static_cast<const char*>(v.mv_data), v.mv_size);
    mdb_txn_abort(txn);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) check_lmdb(rc, dir, "cannot read an entry");
    return out;
  }
};

struct PassageCacheWriter::Env : LmdbEnv {
  using LmdbEnv::LmdbEnv;
};
struct PassageCache::Env : LmdbEnv {
  using LmdbEnv::LmdbEnv;
};

PassageCacheWriter::PassageCacheWriter(const fs::path& dir, const CacheIdentity& identity,
                                       torch::Dtype dtype)
    : dir_(dir), partial_(dir.string() + ".partial"), identity_(identity), dtype_(dtype) {
  if (fs::exists(dir_))
    throw core::UserError(
        fmt::format("{} exists; give a new --output directory for the cache", dir_.string()));
  fs::remove_all(partial_);
  fs::create_directories(partial_);
  env_ = std::make_unique<Env>(partial_, true);
}

PassageCacheWriter::~PassageCacheWriter() = default;

void PassageCacheWriter::put(const CachedPassage& passage) {
  put_bytes(passage.id, encode_passage(passage, dtype_));
}

void PassageCacheWriter::put_bytes(const std::string& id, const std::string& bytes) {
  env_->put(env_->passages, id, bytes);
  ++entries_;
  bytes_ += int64_t(bytes.size());
}

void PassageCacheWriter::finish() {
  json record = {{"format", "slimformer passage cache"},
                 {"version", kVersion},
                 {"identity", identity_.to_json()},
                 {"dtype", dtype_ == torch::kFloat16 ? "float16" : "float32"},
                 {"entries", entries_},
                 {"entry_bytes", bytes_}};
  env_->put(env_->meta, kMetaKey, record.dump());
  check_lmdb(mdb_env_sync(env_->env, 1), partial_, "cannot write the cache to disk");
  env_.reset();
  fs::rename(partial_, dir_);
}

PassageCache::PassageCache(const fs::path& dir) : dir_(dir) {
  if (!fs::exists(dir / "data.mdb"))
    throw core::UserError(fmt::format("{} holds no passage cache (no data.mdb)", dir.string()));
  env_ = std::make_unique<Env>(dir, false);
  auto meta = env_->get(env_->meta, kMetaKey);
  if (!meta) throw core::UserError(fmt::format("{}: the cache has no record", dir.string()));
  try {
    record_ = json::parse(*meta);
  } catch (const json::exception& e) {
    throw core::UserError(fmt::format("{}: the cache record is unreadable ({})", dir.string(),
                                      e.what()));
  }
  identity_ = CacheIdentity::from_json(record_.value("identity", json::object()), dir.string());
}

PassageCache::~PassageCache() = default;

void PassageCache::require(const CacheIdentity& expected, const std::string& model_name) const {
  const std::string cache = dir_.string();
  if (identity_.model_fingerprint != expected.model_fingerprint)
    throw core::UserError(fmt::format(
        "cache {} was built for another model (fingerprint {}, {} has {}); build it again with "
        "slimformer cache",
        cache, identity_.model_fingerprint, model_name, expected.model_fingerprint));
  if (identity_.separate_layers != expected.separate_layers)
    throw core::UserError(fmt::format("cache {} was built for k = {}, {} has k = {}", cache,
                                      identity_.separate_layers, model_name,
                                      expected.separate_layers));
  const json mine = identity_.to_json(), theirs = expected.to_json();
  for (const auto& [key, value] : theirs.items())
    if (mine.at(key) != value)
      throw core::UserError(fmt::format("cache {} was built with {} {}, {} needs {}", cache, key,
                                        mine.at(key).dump(), model_name, value.dump()));
}

std::optional<CachedPassage> PassageCache::get(const std::string& id) const {
  auto bytes = env_->get(env_->passages, id);
  if (!bytes) return std::nullopt;
  return decode_passage(*bytes, id, dir_.string());
}

std::vector<std::string> PassageCache::ids() const {
  std::vector<std::string> out;
  MDB_txn* txn = nullptr;
  check_lmdb(mdb_txn_begin(env_->env, nullptr, MDB_RDONLY, &txn), dir_, "begin");
  MDB_cursor* cursor = nullptr;
  check_lmdb(mdb_cursor_open(txn, env_->passages, &cursor), dir_, "cursor");
  MDB_val k, v;
  for (int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT))
    out.emplace_back(static_cast<const char*>(k.mv_data), k.mv_size);
  mdb_cursor_close(cursor);
  mdb_txn_abort(txn);
  return out;
}

}  // namespace slimformer::methods
