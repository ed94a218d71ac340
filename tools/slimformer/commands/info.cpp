// slimformer info: a checkpoint's architecture and its model tree, with paths and parameter
// counts, its parameters' fingerprint, and the compression chain that produced it, if any.
#include <fmt/format.h>

#include "commands.h"
#include "options.h"
#include "slimformer/core/checksum.h"
#include "slimformer/core/runtime.h"
#include "slimformer/pipeline/compress.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "info", "print a model's tree: sublayer paths, kinds and parameter counts");
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  auto model_dir = std::make_shared<std::string>();
  cmd->add_option("model", *model_dir, "checkpoint directory")->required();
  add_recipe_flags(cmd);
  cmd->callback([=] {
    common->apply();
    const auto device = core::parse_device(common->device);
    // Any family: what is printed is the model tree, the tokenizer file and the init.
    const auto loaded = train::load_model(*model_dir, device);
    const auto& init = loaded.init;
    const bool init_from_seed = loaded.init_from_seed;
    const std::string tokenizer = loaded.tokenizer->path();
    auto& model = *loaded.model;
    const auto& c = model.config();
    fmt::print("model      {} ({} + {} layers, d_model {}, ffn {}/{}, heads {}/{}, {}-norm)\n",
               c.model_type, c.encoder_layers, c.decoder_layers, c.d_model, c.encoder_ffn_dim,
               c.decoder_ffn_dim, c.encoder_attention_heads, c.decoder_attention_heads,
               c.normalize_before ? "pre" : "post");
    fmt::print("vocabulary {} pieces ({})\n", c.vocab_size, tokenizer);
    fmt::print("parameters {} (fingerprint {})\n", model.num_parameters(),
               core::fingerprint(model.state()));
    fmt::print("init       {}\n\n", init.empty()     ? "not recorded"
                                    : init_from_seed ? "regenerated from init_seed"
                                                     : "recorded (init.safetensors)");
    // A compressed model names the chain of steps that produced it.
    const auto chain = pipeline::chain_labels(
        loaded.record, (std::filesystem::path(*model_dir) / train::kRecordFile).string());
    for (size_t i = 0; i < chain.size(); ++i)
      fmt::print("{} {}. {}\n", i == 0 ? "chain     " : "          ", i + 1, chain[i]);
    if (!chain.empty()) fmt::print("\n");
    fmt::print("{:<28} {:<16} {:>10}  {}\n", "path", "block", "params", "state");
    for (auto& s : model.sublayers()) {
      std::string state = s->removed() ? "removed" : s->enabled() ? "active" : "off";
      std::string kind = s->removed() ? "-" : s->block()->kind();
      fmt::print("{:<28} {:<16} {:>10}  {}\n", s->path(), kind, s->num_parameters(), state);
      // A block that differs from the family default shows its spec.
      if (c.blocks.count(s->path()))
        fmt::print("{:<28} {}\n", "", c.blocks.at(s->path()).to_json().dump());
    }
  });
}

}  // namespace slimformer::tools
