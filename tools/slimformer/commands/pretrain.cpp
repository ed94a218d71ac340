// slimformer pretrain: masked-LM pre-training of a BERT-style encoder on plain text.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "command_line.h"
#include "commands.h"
#include "options.h"
#include "pretrain_corpus.h"
#include "slimformer/core/error.h"
#include "slimformer/core/runtime.h"
#include "slimformer/data/vocab.h"
#include "slimformer/eval/masked_lm_task.h"
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
  add_new_model_options(options);
  add_trainer_options(options);
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
    const torch::Device device = core::parse_device(common->device);
    auto train_options = train_options_from_settings(s);
    train_options.stop_requested = &g_stop_requested;
    const fs::path out = train_options.output_dir;
    const auto texts = get_list(s, "data.train_text");
    if (texts.empty()) s.fail("data.train_text", "must name at least one text file");
    const int64_t max_length = s.get_int_at_least("data.max_length", 8);
    const int64_t valid_pairs = s.get_int_at_least("data.valid_pairs", 1);
    prepare_output_dir(train_options);
    const auto corpus = read_pretrain_corpus(texts);

    auto ckpt = resume_or_start<train::EncoderCheckpoint>(
        train_options, [&](const fs::path& dir) { return train::load_encoder(dir, device); },
        [&] {
          train::EncoderCheckpoint fresh;
          fresh.tokenizer = tokenizer_from_settings(s, corpus, out, /*with_mask=*/true);
          auto config = config_from_settings(s, fresh.tokenizer->size(), "encoder");
          config.encoder_head = "mlm";
          config.pad_token_id = eval::MaskedLMTask::special_ids(*fresh.tokenizer).pad;
          config.bos_token_id = fresh.tokenizer->bos_id();
          config.eos_token_id = fresh.tokenizer->eos_id();
          config.validate("model options");
          if (max_length > config.max_position_embeddings)
            s.fail("data.max_length",
                   fmt::format("must be at most model.max_position_embeddings {}",
                               config.max_position_embeddings));
          fresh.model = models::EncoderModel(config);
          fresh.model->to(device);
          return fresh;
        });
    auto& model = ckpt.model;
    auto& tokenizer = ckpt.tokenizer;

    std::vector<std::vector<int64_t>> lines;
    for (const auto& line : corpus) lines.push_back(tokenizer->encode(line));
    const auto special = eval::MaskedLMTask::special_ids(*tokenizer);
    auto pairs = data::make_segment_pairs(lines, max_length, special, uint64_t(train_options.seed));
    if (static_cast<int64_t>(pairs.size()) <= valid_pairs)
      s.fail("data.valid_pairs",
             fmt::format("must be below the {} sentence pairs of the text", pairs.size()));
    std::vector<data::SegmentPair> valid(pairs.end() - valid_pairs, pairs.end());
    pairs.resize(pairs.size() - valid_pairs);
    int64_t tokens = 0;
    for (const auto& p : pairs) tokens += p.tokens.size();
    spdlog::info("{} training pairs ({} tokens), {} validation pairs; model {} parameters",
                 pairs.size(), tokens, valid.size(), model->num_parameters());

    eval::MaskedLMTaskOptions task_options;
    task_options.max_tokens = s.get_int_at_least("train.max_tokens", max_length);
    task_options.mask_probability = s.get_double_in("data.mask_probability", 0, 1, false);
    task_options.seed = train_options.seed;
    task_options.device = device;
    eval::MaskedLMTask task(model, tokenizer, ckpt.init, std::move(pairs), std::move(valid),
                            task_options);
    nlohmann::json record = {{"command", command_line()}, {"options", s.to_nested_json()}};
    auto result = run_with_progress(task, train_options, record);
    fmt::print("pre-trained {} steps in {:.0f} s ({:.0f} tokens/s), stopped by {}\n", result.steps,
               result.seconds, result.tokens_per_second, result.stop_reason);
    for (const auto& [k, v] : result.best) fmt::print("best {} {:.3f}\n", k, v);
    fmt::print("checkpoints in {}/best and {}/last\n", out.string(), out.string());
  });
}

}  // namespace slimformer::tools
