// slimformer generate: continue a prompt with a causal language model, printing tokens as they
// come. Greedy by default; --temperature, --top-k and --top-p sample; --beam searches; --samples N
// writes N sampled continuations a line each (a text to fine-tune or evaluate on, drawn from the
// model itself).
#include <fmt/format.h>

#include <cstdio>

#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/runtime.h"
#include "slimformer/eval/generation.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

void register_generate(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "continue a prompt with a causal language model");
  auto model_dir = std::make_shared<std::string>();
  auto prompt = std::make_shared<std::string>();
  auto options = std::make_shared<eval::GenerateOptions>();
  auto samples = std::make_shared<int64_t>(1);
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("model", *model_dir, "checkpoint directory of a causal LM")->required();
  cmd->add_option("--prompt", *prompt, "text to continue (default: start from BOS alone)");
  cmd->add_option("--max-new-tokens", options->max_new_tokens, "tokens to generate at most")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", options->temperature, "0: greedy; > 0: sample")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-k", options->top_k, "sample among the k most likely tokens (0: all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", options->top_p, "nucleus sampling mass (1: off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--beam", options->beam_size,
                  "beam size (1: greedy or sampling); the best hypothesis is printed when chosen")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--length-penalty", options->length_penalty,
                  "beam search: scores are divided by length^this")
      ->capture_default_str();
  cmd->add_option("--seed", options->seed, "random seed for sampling")->capture_default_str();
  cmd->add_option("--samples", *samples,
                  "continuations to write, a line each (sample i uses seed + i; with 1, the text "
                  "is printed as it grows)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  common->add_to(cmd);
  add_recipe_flags(cmd);
  cmd->callback([=] {
    common->apply();
    auto ckpt = train::load_causal_lm(*model_dir, core::parse_device(common->device));
    if (*samples > 1) {
      for (int64_t i = 0; i < *samples; ++i) {
        auto run = *options;
        run.seed = options->seed + static_cast<uint64_t>(i);
        std::string text = eval::continue_prompt(*ckpt.model, *ckpt.tokenizer, *prompt, run);
        for (char& c : text)
          if (c == '\n' || c == '\r') c = ' ';
        fmt::print("{}\n", text);
      }
      return;
    }
    // Print the text as it grows, writing what is new each time.
    std::string printed = ckpt.tokenizer->decode(ckpt.tokenizer->encode(*prompt));
    std::fputs(printed.c_str(), stdout);
    eval::continue_prompt(
        *ckpt.model, *ckpt.tokenizer, *prompt, *options, [&](const std::string& text) {
          if (text.size() > printed.size() && text.compare(0, printed.size(), printed) == 0) {
            std::fputs(text.c_str() + printed.size(), stdout);
            std::fflush(stdout);
            printed = text;
          }
        });
    std::fputs("\n", stdout);
  });
}

}  // namespace slimformer::tools
