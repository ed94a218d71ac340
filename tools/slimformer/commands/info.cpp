// slimformer info: a checkpoint's architecture and its model tree, with paths and parameter counts.
#include <fmt/format.h>

#include "commands.h"
#include "options.h"
#include "slimformer/core/runtime.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "info", "print a model's tree: sublayer paths, kinds and parameter counts");
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  auto model_dir = std::make_shared<std::string>();
  cmd->add_option("model", *model_dir, "checkpoint directory")->required();
  cmd->callback([=] {
    common->apply();
    const auto device = core::parse_device(common->device);
    // Any family: what is printed is the model tree, the tokenizer file and the init.
    std::shared_ptr<models::ModelTree> tree;
    std::string tokenizer;
    core::TensorMap init;
    bool init_from_seed = false;
    auto take = [&](auto ckpt, const std::string& tokenizer_path) {
      tree = ckpt.model.ptr(), tokenizer = tokenizer_path, init = std::move(ckpt.init);
      init_from_seed = ckpt.init_from_seed;
    };
    const std::string type = train::checkpoint_model_type(*model_dir);
    if (type == "causal_lm") {
      auto ckpt = train::load_causal_lm(*model_dir, device);
      const std::string path = ckpt.tokenizer->path();
      take(std::move(ckpt), path);
    } else if (type == "encoder") {
      auto ckpt = train::load_encoder(*model_dir, device);
      const std::string path = ckpt.tokenizer->path();
      take(std::move(ckpt), path);
    } else {
      auto ckpt = train::load_seq2seq(*model_dir, device);
      const std::string path = ckpt.vocab.path();
      take(std::move(ckpt), path);
    }
    auto& model = *tree;
    const auto& c = model.config();
    fmt::print("model      {} ({} + {} layers, d_model {}, ffn {}/{}, heads {}/{}, {}-norm)\n",
               c.model_type, c.encoder_layers, c.decoder_layers, c.d_model, c.encoder_ffn_dim,
               c.decoder_ffn_dim, c.encoder_attention_heads, c.decoder_attention_heads,
               c.normalize_before ? "pre" : "post");
    fmt::print("vocabulary {} pieces ({})\n", c.vocab_size, tokenizer);
    fmt::print("parameters {}\n", model.num_parameters());
    fmt::print("init       {}\n\n", init.empty()     ? "not recorded"
                                    : init_from_seed ? "regenerated from init_seed"
                                                     : "recorded (init.safetensors)");
    fmt::print("{:<28} {:<16} {:>10}  {}\n", "path", "block", "params", "state");
    for (auto& s : model.sublayers()) {
      std::string state = s->removed() ? "removed" : s->enabled() ? "active" : "off";
      std::string kind = s->removed() ? "-" : s->block()->kind();
      fmt::print("{:<28} {:<16} {:>10}  {}\n", s->path(), kind, s->num_parameters(), state);
    }
  });
}

}  // namespace slimformer::tools
