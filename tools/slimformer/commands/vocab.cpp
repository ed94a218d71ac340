// slimformer vocab: train a joint sentencepiece vocabulary, or encode/decode with one.
#include "slimformer/data/vocab.h"

#include <fmt/format.h>

#include <iostream>
#include <sstream>

#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"

namespace slimformer::tools {

void register_vocab(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("vocab", "train a joint BPE/unigram vocabulary, or encode/decode stdin");
  auto inputs = std::make_shared<std::vector<std::string>>();
  auto output = std::make_shared<std::string>();
  auto encode_with = std::make_shared<std::string>();
  auto decode_with = std::make_shared<std::string>();
  auto vo = std::make_shared<data::VocabTrainOptions>();
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  cmd->add_option("inputs", *inputs, "text files to train on (plain or .gz)");
  cmd->add_option("--output", *output, "where to write the .model file");
  cmd->add_option("--size", vo->vocab_size, "number of pieces")->capture_default_str();
  cmd->add_option("--type", vo->model_type, "bpe or unigram")->capture_default_str();
  cmd->add_option("--max-sentences", vo->max_sentences, "sample at most this many lines (0: all)")
      ->capture_default_str();
  cmd->add_option("--encode", *encode_with, "encode stdin lines to ids with this model");
  cmd->add_option("--decode", *decode_with, "decode stdin lines of ids with this model");
  add_recipe_flags(cmd);
  cmd->callback([=] {
    common->apply();
    if (!encode_with->empty() || !decode_with->empty()) {
      bool encoding = !encode_with->empty();
      auto vocab = data::Vocab::load(encoding ? *encode_with : *decode_with);
      for (std::string line; std::getline(std::cin, line);) {
        if (encoding) {
          auto ids = vocab.encode(line);
          fmt::print("{}\n", fmt::join(ids, " "));
        } else {
          std::vector<int64_t> ids;
          std::istringstream in(line);
          for (int64_t id; in >> id;) {
            if (id < 0 || id >= vocab.size())
              throw core::UserError(
                  fmt::format("--decode: id {} is outside the vocabulary of {}", id, vocab.size()));
            ids.push_back(id);
          }
          fmt::print("{}\n", vocab.decode(ids));
        }
      }
      return;
    }
    if (inputs->empty() || output->empty())
      throw core::UserError(
          "vocab: give training text files and --output (or --encode/--decode MODEL)");
    auto vocab = data::Vocab::train(*inputs, *output, *vo);
    fmt::print("wrote {} ({} pieces)\n", *output, vocab.size());
  });
}

}  // namespace slimformer::tools
