#include "slimformer/data/tokenizer.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/data/llama2c_tokenizer.h"
#include "slimformer/data/vocab.h"
#include "slimformer/data/wordpiece.h"

namespace slimformer::data {

namespace fs = std::filesystem;

std::shared_ptr<Tokenizer> load_checkpoint_tokenizer(const fs::path& dir) {
  if (fs::exists(dir / Vocab::kFileName))
    return std::make_shared<Vocab>(Vocab::load((dir / Vocab::kFileName).string()));
  if (fs::exists(dir / Llama2cTokenizer::kFileName))
    return std::make_shared<Llama2cTokenizer>(
        Llama2cTokenizer::load((dir / Llama2cTokenizer::kFileName).string()));
  if (fs::exists(dir / WordPieceTokenizer::kFileName)) {
    bool lower_case = true;
    const fs::path settings = dir / WordPieceTokenizer::kSettingsFile;
    if (fs::exists(settings)) {
      try {
        lower_case = nlohmann::json::parse(core::read_file(settings)).value("do_lower_case", true);
      } catch (const nlohmann::json::exception& e) {
        throw core::UserError(fmt::format("{}: {}", settings.string(), e.what()));
      }
    }
    return std::make_shared<WordPieceTokenizer>(
        WordPieceTokenizer::load((dir / WordPieceTokenizer::kFileName).string(), lower_case));
  }
  throw core::UserError(fmt::format("{}: checkpoint has no {}, {} or {}", dir.string(),
                                    Vocab::kFileName, Llama2cTokenizer::kFileName,
                                    WordPieceTokenizer::kFileName));
}

void Tokenizer::save_to(const fs::path& dir) const {
  const fs::path copy = dir / checkpoint_file_name();
  fs::copy_file(path(), copy, fs::copy_options::overwrite_existing);
  // A copy of a read-only file is read-only; the checkpoint's owner may still replace it.
  fs::permissions(copy, fs::perms::owner_write, fs::perm_options::add);
}

std::shared_ptr<Tokenizer> load_tokenizer_file(const fs::path& path) {
  if (path.extension() == ".model") return std::make_shared<Vocab>(Vocab::load(path.string()));
  if (path.extension() == ".txt")
    return std::make_shared<WordPieceTokenizer>(WordPieceTokenizer::load(path.string()));
  return std::make_shared<Llama2cTokenizer>(Llama2cTokenizer::load(path.string()));
}

}  // namespace slimformer::data
