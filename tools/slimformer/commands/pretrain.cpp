// slimformer pretrain: masked-LM pre-training of a BERT-style encoder on plain text.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "command_line.h"
#include "commands.h"
#include "pruning_setup.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/runtime.h"
#include "slimformer/data/vocab.h"
#include "slimformer/pipeline/pretrain_corpus.h"
#include "slimformer/pipeline/training.h"
#include "slimformer/tasks/masked_lm_task.h"
#include "slimformer/train/checkpoint.h"
#include "training_setup.h"

namespace slimformer::tools {

namespace fs = std::filesystem;

namespace {

void add_pretrain_options(CommandOptions& options) {
  options.add(
      "data.train_text",
      nlohmann::json::array({"data/wikitext-2/valid.txt.gz", "data/wikitext-2/test.txt.gz",
                             "data/tinyshakespeare/input.txt.gz", "data/multi30k/train.en.gz"}),
      "text files, one line each, consecutive lines forming sentence pairs; a GLUE task's .tsv "
      "gives its sentences, a SQuAD .json its training articles' passages");
  options.add("data.max_length", 128, "tokens per sentence pair, [CLS] and [SEP]s included");
  options.add("data.valid_pairs", 500, "the last N sentence pairs are held out for validation");
  options.add("data.mask_probability", 0.15, "share of tokens chosen for prediction");
  options.add("model_from", "",
              "continue pre-training this encoder checkpoint (its architecture, vocabulary and "
              "weights; the model and vocab options are then unused)",
              "--from");
  add_new_model_options(options);
  add_trainer_options(options);
  add_data_parallel_options(options);
  add_distillation_options(options);
  add_pruning_options(options, /*with_target=*/true);
  // BERT's architecture and optimizer rather than the translation defaults.
  options.set_defaults({{"model.d_model", 256},
                        {"model.encoder_layers", 4},
                        {"model.encoder_attention_heads", 4},
                        {"model.encoder_ffn_dim", 1024},
                        {"model.activation_function", "gelu"},
                        {"model.position_embedding", "learned"},
                        {"model.max_position_embeddings", 128},
                        {"model.scale_embedding", false},
                        {"model.norm_eps", 1e-12},
                        {"model.attention_dropout", 0.1},
                        {"train.optimizer", "adamw"},
                        {"train.lr", 1e-3},
                        {"train.weight_decay", 0.01},
                        {"train.schedule", "linear"},
                        {"train.warmup_steps", 300},
                        {"train.max_steps", 3000},
                        {"train.label_smoothing", 0.0},
                        {"train.validate_every", 500},
                        {"vocab.size", 8000},
                        {"output", "runs/pretrain"}});
}

void check_max_length(const core::Settings& s, int64_t max_length,
                      const models::TransformerConfig& config) {
  if (max_length > config.max_position_embeddings)
    s.fail("data.max_length", fmt::format("must be at most model.max_position_embeddings {}",
                                          config.max_position_embeddings));
}

// An existing encoder to pre-train further, with its masked-LM head (a fresh one if it has none,
// e.g. a checkpoint fine-tuned on a task).
train::LoadedModel continued_encoder(const core::Settings& s, const std::string& from,
                                     int64_t max_length, const torch::Device& device) {
  auto ckpt = train::load_encoder(from, device, "mlm", 2);
  check_max_length(s, max_length, ckpt.model->config());
  spdlog::info("continuing the pre-training of {}", from);
  return train::LoadedModel{ckpt.model.ptr(), ckpt.tokenizer, std::move(ckpt.init),
                            ckpt.init_from_seed, ckpt.record};
}

}  // namespace

void register_pretrain(CLI::App& app) {
  auto* cmd = app.add_subcommand("pretrain", "masked-LM pre-training of a BERT-style encoder");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  add_pretrain_options(*options);
  cmd->callback([options, common] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    auto run = training_run(s, *common, "pretrain");
    add_pruning_hook(s, run);
    const fs::path out = run.train.output_dir;
    const auto texts = masked_lm_texts(s);
    const auto data = masked_lm_data(s);
    pipeline::prepare_output_dir(run.train);
    const auto corpus = pipeline::read_pretrain_corpus(texts);

    const std::string from = s.get_string("model_from");
    auto model = pipeline::resume_or_start(run.train, run.device, [&] {
      if (!from.empty()) return continued_encoder(s, from, data.max_length, run.device);
      train::LoadedModel fresh;
      fresh.tokenizer = tokenizer_from_settings(s, corpus, out, /*with_mask=*/true);
      auto config = config_from_settings(s, fresh.tokenizer->size(), "encoder");
      config.encoder_head = "mlm";
      config.pad_token_id = tasks::MaskedLMTask::special_ids(*fresh.tokenizer).pad;
      config.bos_token_id = fresh.tokenizer->bos_id();
      config.eos_token_id = fresh.tokenizer->eos_id();
      config.validate("model options");
      check_max_length(s, data.max_length, config);
      auto typed = models::EncoderModel(config);
      typed->to(run.device);
      fresh.model = typed.ptr();
      return fresh;
    });
    const auto result = pipeline::train_masked_lm(model, corpus, data, run);
    fmt::print("pre-trained {} steps in {:.0f} s ({:.0f} tokens/s), stopped by {}\n", result.steps,
               result.seconds, result.tokens_per_second, result.stop_reason);
    for (const auto& [k, v] : result.best) fmt::print("best {} {:.3f}\n", k, v);
    fmt::print("checkpoints in {}/best and {}/last\n", out.string(), out.string());
  });
}

}  // namespace slimformer::tools
