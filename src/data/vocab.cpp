#include "slimformer/data/vocab.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "slimformer/core/error.h"
#include "slimformer/data/text_file.h"

namespace slimformer::data {

namespace fs = std::filesystem;

namespace {

// The sentencepiece shim's entry points (src/data/spm_shim/spm_shim.h), resolved once.
struct SpmLibrary {
  void* (*load)(const char*, char*, int) = nullptr;
  void (*free)(void*) = nullptr;
  int (*piece_size)(void*) = nullptr;
  void (*special_ids)(void*, int*) = nullptr;
  int (*piece_to_id)(void*, const char*) = nullptr;
  int (*encode)(void*, const char*, int*, int) = nullptr;
  int (*decode)(void*, const int*, int, char*, int) = nullptr;
  int (*train)(const char*, char*, int) = nullptr;
};

std::vector<fs::path> shim_candidates() {
  std::vector<fs::path> out;
  if (const char* env = std::getenv("SLIMFORMER_SPM_LIBRARY")) out.emplace_back(env);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  const fs::path name = fs::path(SLIMFORMER_SPM_BUILD_PATH).filename();
  if (!ec) {
    out.push_back(exe.parent_path() / name);
    out.push_back(exe.parent_path().parent_path() / "lib" / name);
  }
  out.emplace_back(SLIMFORMER_SPM_INSTALL_PATH);
  out.emplace_back(SLIMFORMER_SPM_BUILD_PATH);
  return out;
}

const SpmLibrary& spm() {
  static SpmLibrary library;
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    void* handle = nullptr;
    std::string tried;
    for (const auto& candidate : shim_candidates()) {
      if (!fs::exists(candidate)) continue;
      // A new link-map namespace: the shim gets its own protobuf and its own C++ runtime.
      handle = ::dlmopen(LM_ID_NEWLM, candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle) break;
      tried += fmt::format(" {} ({})", candidate.string(), ::dlerror());
    }
    if (!handle) {
      failure =
          "cannot load the sentencepiece library libslimformer_spm.so; set SLIMFORMER_SPM_LIBRARY" +
          tried;
      return;
    }
    auto sym = [&](const char* name) {
      void* p = ::dlsym(handle, name);
      if (!p) failure = fmt::format("libslimformer_spm.so lacks {}", name);
      return p;
    };
    library.load = reinterpret_cast<decltype(library.load)>(sym("slimformer_spm_load"));
    library.free = reinterpret_cast<decltype(library.free)>(sym("slimformer_spm_free"));
    library.piece_size =
        reinterpret_cast<decltype(library.piece_size)>(sym("slimformer_spm_piece_size"));
    library.special_ids =
        reinterpret_cast<decltype(library.special_ids)>(sym("slimformer_spm_special_ids"));
    library.piece_to_id =
        reinterpret_cast<decltype(library.piece_to_id)>(sym("slimformer_spm_piece_to_id"));
    library.encode = reinterpret_cast<decltype(library.encode)>(sym("slimformer_spm_encode"));
    library.decode = reinterpret_cast<decltype(library.decode)>(sym("slimformer_spm_decode"));
    library.train = reinterpret_cast<decltype(library.train)>(sym("slimformer_spm_train"));
  });
  if (!failure.empty()) throw std::runtime_error(failure);
  return library;
}

}  // namespace

Vocab Vocab::load(const std::string& path) {
  if (!fs::is_regular_file(path))
    throw core::UserError(fmt::format("{}: tokenizer model not found", path));
  const auto& lib = spm();
  std::array<char, 512> err{};
  void* handle = lib.load(path.c_str(), err.data(), int(err.size()));
  if (!handle)
    throw core::UserError(fmt::format("{}: not a sentencepiece model ({})", path, err.data()));
  Vocab vocab;
  vocab.processor_ = std::shared_ptr<void>(handle, [](void* h) { spm().free(h); });
  vocab.path_ = path;
  int ids[4];
  lib.special_ids(handle, ids);
  if (ids[0] != kPad || ids[1] != kUnk || ids[2] != kBos || ids[3] != kEos)
    throw core::UserError(
        fmt::format("{}: special ids pad/unk/bos/eos are {}/{}/{}/{}, expected 0/1/2/3", path,
                    ids[0], ids[1], ids[2], ids[3]));
  vocab.size_ = lib.piece_size(handle);
  vocab.mask_ = lib.piece_to_id(handle, kMaskPiece);
  return vocab;
}

Vocab Vocab::train(const std::vector<std::string>& text_files, const std::string& model_path,
                   const VocabTrainOptions& options) {
  return train_on_lines(read_lines(text_files), model_path, options);
}

Vocab Vocab::train_on_lines(const std::vector<std::string>& lines, const std::string& model_path,
                            const VocabTrainOptions& options) {
  if (options.model_type != "bpe" && options.model_type != "unigram")
    throw core::UserError(
        fmt::format("vocab model type must be bpe or unigram, got {}", options.model_type));
  // sentencepiece reads its input from a file: write the lines to a temporary one.
  fs::path out(model_path);
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  fs::path text =
      out.parent_path() / fmt::format(".{}.train-{}.txt", out.stem().string(), ::getpid());
  {
    std::ofstream joined(text);
    for (const auto& line : lines) joined << line << '\n';
  }
  std::string prefix =
      (out.parent_path() / fmt::format(".{}.tmp-{}", out.stem().string(), ::getpid())).string();
  std::string args = fmt::format(
      "--input={} --model_prefix={} --vocab_size={} --model_type={} --character_coverage={} "
      "--pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3 --minloglevel=2 --num_threads=2",
      text.string(), prefix, options.vocab_size, options.model_type, options.character_coverage);
  if (options.with_mask) args += fmt::format(" --user_defined_symbols={}", kMaskPiece);
  if (options.max_sentences > 0)
    args += fmt::format(" --input_sentence_size={} --shuffle_input_sentence=true",
                        options.max_sentences);
  std::array<char, 512> err{};
  int failed = spm().train(args.c_str(), err.data(), int(err.size()));
  fs::remove(text);
  fs::remove(prefix + ".vocab");
  if (failed) {
    fs::remove(prefix + ".model");
    throw core::UserError(fmt::format("vocab training failed: {}", err.data()));
  }
  fs::rename(prefix + ".model", model_path);  // atomic: a reader never sees a partial model
  return load(model_path);
}

std::vector<int64_t> Vocab::encode(const std::string& text) const {
  std::vector<int> ids(text.size() + 8);
  int n = spm().encode(processor_.get(), text.c_str(), ids.data(), int(ids.size()));
  if (n > int(ids.size())) {
    ids.resize(n);
    n = spm().encode(processor_.get(), text.c_str(), ids.data(), n);
  }
  return {ids.begin(), ids.begin() + n};
}

std::string Vocab::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> kept;
  for (int64_t id : ids) {
    if (id == kEos) break;
    if (id == kPad || id == kBos) continue;
    kept.push_back(static_cast<int>(id));
  }
  std::string text(kept.size() * 8 + 16, '\0');
  int n =
      spm().decode(processor_.get(), kept.data(), int(kept.size()), text.data(), int(text.size()));
  if (n > int(text.size())) {
    text.resize(n);
    n = spm().decode(processor_.get(), kept.data(), int(kept.size()), text.data(), n);
  }
  text.resize(n);
  return text;
}

int64_t Vocab::size() const { return size_; }

}  // namespace slimformer::data
