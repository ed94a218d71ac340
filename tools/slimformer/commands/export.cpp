// slimformer export: write a checkpoint for distribution: weights in a smaller storage type,
// no training state, and optionally no init file when the init is regenerable from its seed; or
// an encoder in the Hugging Face BERT layout.
#include <fmt/format.h>

#include "command_line.h"
#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/train/checkpoint.h"
#include "slimformer/train/hf_bert.h"

namespace slimformer::tools {

void register_export(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export", "write a compact copy of a checkpoint (float16 weights, no training state)");
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  auto model_dir = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto dtype = std::make_shared<std::string>("float16");
  auto init_policy = std::make_shared<std::string>("keep");
  auto format = std::make_shared<std::string>("slimformer");
  cmd->add_option("model", *model_dir, "checkpoint directory")->required();
  cmd->add_option("--output", *output, "directory to write")->required();
  cmd->add_option("--dtype", *dtype, "storage type of the weights: float32, float16 or bfloat16")
      ->capture_default_str();
  cmd->add_option(
         "--init", *init_policy,
         "keep: copy init.safetensors; seed: omit it after checking it equals a fresh model from "
         "init_seed; drop: omit it")
      ->capture_default_str();
  cmd->add_option("--format", *format,
                  "slimformer, or hf: an encoder as a Hugging Face BERT directory (config.json, "
                  "model.safetensors with Hugging Face names, float32, and its tokenizer)")
      ->capture_default_str();
  add_recipe_flags(cmd);
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
    if (*init_policy != "keep" && *init_policy != "seed" && *init_policy != "drop")
      throw core::UserError(fmt::format("--init must be keep, seed or drop, got {}", *init_policy));
    if (*format != "slimformer" && *format != "hf")
      throw core::UserError(fmt::format("--format must be slimformer or hf, got {}", *format));
    // Every family writes the same files; only loading differs.
    auto exported_record = [](const nlohmann::json& loaded) {
      auto record = loaded.is_object() ? loaded : nlohmann::json::object();
      record["exported_by"] = command_line();
      return record;
    };
    auto write = [&](models::ModelTree& model, const core::TensorMap& init,
                     const data::Tokenizer& tokenizer, const nlohmann::json& loaded_record) {
      auto record = exported_record(loaded_record);
      record["weights_dtype"] = *dtype;
      core::TensorMap kept_init = init;
      if (*init_policy != "keep") {
        if (*init_policy == "seed") {
          if (init.empty())
            throw core::UserError(
                fmt::format("--init seed: {} records no init to check", *model_dir));
          std::string differing;
          if (!train::init_matches_seed(init, model.config(), &differing))
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
        train::write_model_files(tmp, model, kept_init, tokenizer, record, type);
      });
    };
    const std::string family = train::checkpoint_model_type(*model_dir);
    if (*format == "hf" && family != "encoder")
      throw core::UserError(fmt::format(
          "--format hf: {} is a {} model; the Hugging Face layout is written for encoders",
          *model_dir, family));
    if (family == "encoder") {
      auto ckpt = train::load_encoder(*model_dir, torch::kCPU);
      if (*format == "hf")
        core::write_directory_atomically(*output, [&](const std::filesystem::path& tmp) {
          train::write_hf_bert(tmp, *ckpt.model, *ckpt.tokenizer);
          core::write_text_atomically(tmp / train::kRecordFile,
                                      exported_record(ckpt.record).dump(2) + "\n");
        });
      else
        write(*ckpt.model, ckpt.init, *ckpt.tokenizer, ckpt.record);
    } else if (family == "causal_lm") {
      auto ckpt = train::load_causal_lm(*model_dir, torch::kCPU);
      write(*ckpt.model, ckpt.init, *ckpt.tokenizer, ckpt.record);
    } else {
      auto ckpt = train::load_seq2seq(*model_dir, torch::kCPU);
      write(*ckpt.model, ckpt.init, ckpt.vocab, ckpt.record);
    }
    fmt::print("wrote {} ({:.1f} MB)\n", *output, core::directory_bytes(*output) / 1e6);
  });
}

}  // namespace slimformer::tools
