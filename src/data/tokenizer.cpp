#include "slimformer/data/tokenizer.h"

#include <fmt/format.h>

#include "slimformer/core/error.h"
#include "slimformer/data/llama2c_tokenizer.h"
#include "slimformer/data/vocab.h"

namespace slimformer::data {

namespace fs = std::filesystem;

std::shared_ptr<Tokenizer> load_checkpoint_tokenizer(const fs::path& dir) {
  if (fs::exists(dir / Vocab::kFileName))
    return std::make_shared<Vocab>(Vocab::load((dir / Vocab::kFileName).string()));
  if (fs::exists(dir / Llama2cTokenizer::kFileName))
    return std::make_shared<Llama2cTokenizer>(
        Llama2cTokenizer::load((dir / Llama2cTokenizer::kFileName).string()));
  throw core::UserError(fmt::format("{}: checkpoint has no {} or {}", dir.string(),
                                    Vocab::kFileName, Llama2cTokenizer::kFileName));
}

std::shared_ptr<Tokenizer> load_tokenizer_file(const fs::path& path) {
  if (path.extension() == ".model") return std::make_shared<Vocab>(Vocab::load(path.string()));
  return std::make_shared<Llama2cTokenizer>(Llama2cTokenizer::load(path.string()));
}

}  // namespace slimformer::data
