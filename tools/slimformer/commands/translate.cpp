// slimformer translate: translate lines from stdin or a file with a trained model.
#include <fmt/format.h>

#include <fstream>
#include <iostream>

#include "commands.h"
#include "decode_options.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/progress_bar.h"
#include "slimformer/core/runtime.h"
#include "slimformer/data/text_file.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

void register_translate(CLI::App& app) {
  auto* cmd = app.add_subcommand("translate", "translate text with a trained model");
  auto model_dir = std::make_shared<std::string>();
  auto input = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto decode = std::make_shared<eval::DecodeOptions>();
  decode->beam_size = 5;
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("model", *model_dir, "checkpoint directory")->required();
  cmd->add_option("--input", *input, "text file (plain or .gz); default: stdin");
  cmd->add_option("--output", *output, "write translations here; default: stdout");
  add_decode_options(cmd, *decode);
  common->add_to(cmd);
  add_recipe_flags(cmd);
  cmd->callback([=] {
    common->apply();
    const auto device = core::parse_device(common->device);
    auto ckpt = train::load_seq2seq(*model_dir, device);
    std::vector<std::string> lines;
    if (input->empty()) {
      for (std::string line; std::getline(std::cin, line);) lines.push_back(line);
    } else {
      lines = data::read_lines(*input);
    }
    core::ProgressBar bar("translate");
    auto hyps = eval::translate(*ckpt.model, ckpt.vocab, lines, *decode, device,
                                [&](size_t done, size_t total) {
                                  if (!input->empty()) bar.update(done, total);
                                });
    bar.finish();
    std::ofstream file;
    if (!output->empty()) {
      file.open(*output);
      if (!file)
        throw core::UserError(fmt::format("--output {}: cannot open for writing", *output));
    }
    std::ostream& out = output->empty() ? std::cout : file;
    for (const auto& h : hyps) out << h << '\n';
  });
}

}  // namespace slimformer::tools
