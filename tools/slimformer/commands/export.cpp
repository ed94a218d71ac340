// slimformer export: write a checkpoint for distribution: weights in a smaller storage type,
// no training state, and optionally no init file when the init is regenerable from its seed.
#include <fmt/format.h>

#include "command_line.h"
#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

void register_export(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export", "write a compact copy of a checkpoint (float16 weights, no training state)");
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  auto model_dir = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto dtype = std::make_shared<std::string>("float16");
  auto init = std::make_shared<std::string>("keep");
  cmd->add_option("model", *model_dir, "checkpoint directory")->required();
  cmd->add_option("--output", *output, "directory to write")->required();
  cmd->add_option("--dtype", *dtype, "storage type of the weights: float32, float16 or bfloat16")
      ->capture_default_str();
  cmd->add_option(
         "--init", *init,
         "keep: copy init.safetensors; seed: omit it after checking it equals a fresh model from "
         "init_seed; drop: omit it")
      ->capture_default_str();
  cmd->callback([=] {
    common->apply();
    torch::ScalarType type;
    if (*dtype == "float32")
      type = torch::kFloat32;
    else if (*dtype == "float16")
      type = torch::kFloat16;
    else if (*dtype == "bfloat16")
      type = torch::kBFloat16;
    else
      throw core::UserError(
          fmt::format("--dtype must be float32, float16 or bfloat16, got {}", *dtype));
    if (*init != "keep" && *init != "seed" && *init != "drop")
      throw core::UserError(fmt::format("--init must be keep, seed or drop, got {}", *init));
    auto ckpt = train::load_seq2seq(*model_dir, torch::kCPU);
    auto record = ckpt.record.is_object() ? ckpt.record : nlohmann::json::object();
    record["exported_by"] = command_line();
    record["weights_dtype"] = *dtype;
    core::TensorMap kept_init = ckpt.init;
    if (*init != "keep") {
      if (*init == "seed") {
        if (ckpt.init.empty())
          throw core::UserError(
              fmt::format("--init seed: {} records no init to check", *model_dir));
        std::string differing;
        if (!train::init_matches_seed(ckpt.init, ckpt.model->config(), &differing))
          throw core::UserError(fmt::format(
              "--init seed: {} differs from a fresh model's init (tensor {}); use --init keep",
              *model_dir, differing));
        record["init"] = train::kInitFromSeed;
      } else {
        record.erase("init");
      }
      kept_init.clear();
    }
    core::write_directory_atomically(*output, [&](const std::filesystem::path& tmp) {
      train::write_model_files(tmp, *ckpt.model, kept_init, ckpt.vocab, record, type);
    });
    fmt::print("wrote {} ({:.1f} MB)\n", *output, core::directory_bytes(*output) / 1e6);
  });
}

}  // namespace slimformer::tools
