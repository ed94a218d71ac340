// slimformer import: turn a checkpoint in another tool's format into a slimformer checkpoint
// directory (config.json, model.safetensors, the tokenizer, slimformer.json).
#include <fmt/format.h>

#include "command_line.h"
#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/data/llama2c_tokenizer.h"
#include "slimformer/models/causal_lm.h"
#include "slimformer/train/checkpoint.h"
#include "slimformer/train/llama2c_import.h"

namespace slimformer::tools {

namespace {

void import_llama2c(const std::string& model_file, const std::string& tokenizer_file,
                    const std::string& output) {
  if (tokenizer_file.empty())
    throw core::UserError("import --format llama2c: give the vocabulary with --tokenizer FILE");
  auto weights = train::read_llama2c(model_file);
  auto tokenizer = data::Llama2cTokenizer::load(tokenizer_file);
  if (tokenizer.size() != weights.config.vocab_size)
    throw core::UserError(fmt::format("--tokenizer {}: {} tokens, but {} has vocab_size {}",
                                      tokenizer_file, tokenizer.size(), model_file,
                                      weights.config.vocab_size));
  models::CausalLM model(weights.config);
  model->load_state(weights.tensors, model_file);
  nlohmann::json record = {
      {"command", command_line()}, {"imported_from", model_file}, {"format", "llama2c"}};
  core::write_directory_atomically(output, [&](const std::filesystem::path& tmp) {
    train::write_model_files(tmp, *model, {}, tokenizer, record);
  });
  fmt::print("imported {} ({} parameters, {} layers, vocab {}) into {}\n", model_file,
             model->num_parameters(), weights.config.decoder_layers, weights.config.vocab_size,
             output);
}

}  // namespace

void register_import(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "import", "convert a checkpoint from another format (llama2.c) into a checkpoint directory");
  auto model_file = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("llama2c");
  auto tokenizer = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  cmd->add_option("file", *model_file, "the checkpoint to import")->required();
  cmd->add_option("--format", *format, "its format: llama2c")->capture_default_str();
  cmd->add_option("--tokenizer", *tokenizer, "its vocabulary (llama2.c tokenizer.bin)");
  cmd->add_option("--output", *output, "checkpoint directory to write")->required();
  add_recipe_flags(cmd);
  cmd->callback([=] {
    if (*format != "llama2c")
      throw core::UserError(fmt::format("--format must be llama2c, got {}", *format));
    import_llama2c(*model_file, *tokenizer, *output);
  });
}

}  // namespace slimformer::tools
