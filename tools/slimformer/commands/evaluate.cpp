// slimformer evaluate: BLEU of a translation model (or of a file of translations) against
// references, printed with sacreBLEU's signature; perplexity of a causal language model on text.
#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "command_line.h"
#include "commands.h"
#include "decode_options.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/core/progress_bar.h"
#include "slimformer/core/runtime.h"
#include "slimformer/data/text_file.h"
#include "slimformer/data/token_windows.h"
#include "slimformer/eval/bleu.h"
#include "slimformer/eval/chrf.h"
#include "slimformer/eval/perplexity.h"
#include "slimformer/pipeline/evaluation.h"
#include "slimformer/train/checkpoint.h"
#include "squad_setup.h"

namespace slimformer::tools {

namespace {

struct TextOptions {
  std::string text;
  int64_t context = 0;
  int64_t max_lines = 0;
  int64_t batch_size = 8;
};

void evaluate_language_model(const train::LoadedModel& model, const TextOptions& options,
                             const std::string& output) {
  if (options.text.empty())
    throw core::UserError("evaluate: a causal language model needs --text FILE");
  auto lines = data::read_lines(options.text);
  if (options.max_lines > 0 && static_cast<int64_t>(lines.size()) > options.max_lines)
    lines.resize(options.max_lines);
  auto stream = data::token_stream(*model.tokenizer, lines);
  if (stream.empty()) throw core::UserError(fmt::format("--text {}: no text", options.text));
  core::ProgressBar bar("perplexity");
  auto start = std::chrono::steady_clock::now();
  eval::PerplexityOptions ppl_options{
      options.context, options.batch_size,
      [&](int64_t done, int64_t total) { bar.update(done, total); }};
  auto result = eval::perplexity(*model.as<models::CausalLMImpl>(), stream, ppl_options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  bar.finish();
  result.words = eval::count_words(lines);
  fmt::print("{}: {} lines, {} tokens, {} words\n", options.text, lines.size(), result.tokens,
             result.words);
  fmt::print(
      "loss {:.4f}  perplexity {:.2f} per token, {:.2f} per word  ({:.1f} s, {:.0f} tokens/s)\n",
      result.loss(), result.perplexity(), result.word_perplexity(), seconds,
      result.tokens / seconds);
  if (!output.empty()) {
    nlohmann::json results = {{"text", options.text},
                              {"lines", lines.size()},
                              {"tokens", result.tokens},
                              {"words", result.words},
                              {"loss", result.loss()},
                              {"ppl", result.perplexity()},
                              {"word_ppl", result.word_perplexity()},
                              {"seconds", seconds},
                              {"command", command_line()}};
    core::write_text_atomically(std::filesystem::path(output) / "results.json",
                                results.dump(2) + "\n");
  }
}

// The task's metrics of a classification encoder (the task it records unless --glue names one)
// on the task's dev set or --glue-file.
void evaluate_glue(const train::LoadedModel& model, const pipeline::EvaluationOptions& options,
                   const std::string& model_dir) {
  auto evaluator = pipeline::make_evaluator(model, options, model_dir);
  evaluator->evaluate({});
  fmt::print("{}  ({}, {} examples)\n", evaluator->summary(),
             pipeline::text_task_evaluation(model.record, options, model_dir).file,
             evaluator->examples());
  for (const auto& [k, v] : evaluator->details()) fmt::print("{} {:.2f}\n", k, v);
}

// Masked-token accuracy and loss of a masked-LM encoder on the sentence pairs of --text, or on
// the held-out pairs of the text its record says it was pre-trained on.
void evaluate_masked_lm(const train::LoadedModel& model, const pipeline::EvaluationOptions& options,
                        const std::string& model_dir) {
  auto evaluator = pipeline::make_evaluator(model, options, model_dir);
  evaluator->evaluate({});
  fmt::print("{}  ({}, {} sentence pairs)\n", evaluator->summary(),
             options.text.empty() ? "the held-out pairs of its pre-training text" : options.text,
             evaluator->examples());
  for (const auto& [k, v] : evaluator->details()) fmt::print("{} {:.4f}\n", k, v);
}

// The held-out articles of SQuAD, scored with the windows the model was fine-tuned with.
void evaluate_squad(const train::LoadedModel& model, const std::string& file,
                    const torch::Device& device) {
  SquadRunOptions run = squad_options_of_run(model.record, model.model->config());
  if (!file.empty()) run.file = file;
  eval::SquadPredictOptions predict;
  predict.max_answer_length = run.max_answer_length;
  predict.device = device;
  const auto split = read_squad_split(run);
  fmt::print("{}\n", score_squad(*model.as<models::EncoderModelImpl>(), *model.tokenizer,
                                 split.held_out, run, predict)
                         .summary());
}

}  // namespace

void register_evaluate(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "evaluate",
      "BLEU of a model's translations (or of a file) against references; perplexity of an LM");
  auto model_dir = std::make_shared<std::string>();
  auto src = std::make_shared<std::string>("data/multi30k/test_2016_flickr.en.gz");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto hyp_file = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto decode = std::make_shared<eval::DecodeOptions>();
  decode->beam_size = 5;
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("model", *model_dir, "checkpoint directory (omit with --hyp)");
  auto* src_option =
      cmd->add_option("--src", *src, "source text to translate")->capture_default_str();
  cmd->add_option("--ref", *refs, "reference translations (repeat for several)");
  cmd->add_option("--hyp", *hyp_file, "score this file of translations instead of decoding");
  cmd->add_option("--output", *output, "write translations.txt and results.json to this directory");
  add_decode_options(cmd, *decode);
  auto text = std::make_shared<TextOptions>();
  cmd->add_option("--text", text->text,
                  "causal LM: running text to score (plain or .gz); masked-LM encoder: text whose "
                  "sentence pairs are scored (default: the held-out pairs of its pre-training "
                  "text)")
      ->group("Language model");
  cmd->add_option("--context", text->context,
                  "causal LM: tokens per scoring window (0: the model's context)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Language model");
  cmd->add_option("--max-lines", text->max_lines, "causal LM: score the first N lines (0: all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Language model");
  auto glue = std::make_shared<std::string>();
  auto glue_file = std::make_shared<std::string>();
  cmd->add_option("--glue", *glue, "encoder: GLUE task to score (SST-2, MRPC, CoLA, ...)")
      ->group("Encoder");
  cmd->add_option("--glue-file", *glue_file,
                  "encoder: labelled file in the task's layout (default: its dev set)")
      ->group("Encoder");
  auto squad_file = std::make_shared<std::string>();
  cmd->add_option("--squad-file", *squad_file,
                  "span-QA encoder: SQuAD v1.1 file whose held-out articles are scored (default: "
                  "the file and split the model was fine-tuned with)")
      ->group("Encoder");
  common->add_to(cmd);
  add_recipe_flags(cmd);
  cmd->callback([=] {
    common->apply();
    const auto device = core::parse_device(common->device);
    std::optional<train::LoadedModel> model;
    if (!model_dir->empty()) {
      model = train::load_model(*model_dir, device);
      // What the user gave, so that an option of another family is refused, not ignored.
      pipeline::EvaluationOptions given;
      given.device = device;
      if (src_option->count()) given.source = *src;
      if (!refs->empty()) given.reference = refs->front();
      given.text = text->text;
      given.context = text->context;
      given.glue_task = *glue;
      given.glue_file = *glue_file;
      given.squad_file = *squad_file;
      pipeline::check_options_apply(*model, given, *model_dir);
      const auto& config = model->model->config();
      if (config.is_causal_lm()) return evaluate_language_model(*model, *text, *output);
      if (config.is_encoder()) {
        if (config.encoder_head == "span") return evaluate_squad(*model, *squad_file, device);
        if (config.encoder_head == "mlm") return evaluate_masked_lm(*model, given, *model_dir);
        return evaluate_glue(*model, given, *model_dir);
      }
    }
    if (refs->empty()) refs->push_back("data/multi30k/test_2016_flickr.de.gz");
    std::vector<std::vector<std::string>> ref_streams;
    for (const auto& r : *refs) ref_streams.push_back(data::read_lines(r));
    std::vector<std::string> hyps;
    double seconds = 0;
    if (!hyp_file->empty()) {
      hyps = data::read_lines(*hyp_file);
    } else {
      if (model_dir->empty())
        throw core::UserError("evaluate: give a model directory or --hyp FILE");
      auto& translator = *model->as<models::Seq2SeqTransformerImpl>();
      const auto& vocab = dynamic_cast<const data::Vocab&>(*model->tokenizer);
      auto lines = data::read_lines(*src);
      core::ProgressBar bar("translate");
      auto start = std::chrono::steady_clock::now();
      hyps = eval::translate(translator, vocab, lines, *decode, device,
                             [&](size_t done, size_t total) { bar.update(done, total); });
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      bar.finish();
    }
    auto bleu = eval::corpus_bleu(hyps, ref_streams);
    fmt::print("{}\n{}\n", bleu.signature(), bleu.format());
    std::optional<eval::ChrfResult> chrf;
    if (ref_streams.size() == 1) {  // chrF here is single-reference, as sacreBLEU's default is
      chrf = eval::corpus_chrf(hyps, ref_streams[0]);
      fmt::print("chrF2 = {:.2f}  ({})\n", chrf->score, chrf->signature());
    }
    if (seconds > 0)
      fmt::print("decoded {} sentences in {:.1f} s ({:.1f} sentences/s, beam {})\n", hyps.size(),
                 seconds, hyps.size() / seconds, decode->beam_size);
    if (!output->empty()) {
      std::string text;
      for (const auto& h : hyps) text += h + "\n";
      core::write_text_atomically(std::filesystem::path(*output) / "translations.txt", text);
      nlohmann::json results = {{"bleu", bleu.score},
                                {"signature", bleu.signature()},
                                {"bleu_line", bleu.format()},
                                {"sentences", hyps.size()},
                                {"chrf", chrf ? nlohmann::json(chrf->score) : nlohmann::json()},
                                {"decode_seconds", seconds},
                                {"beam", decode->beam_size},
                                {"command", command_line()}};
      core::write_text_atomically(std::filesystem::path(*output) / "results.json",
                                  results.dump(2) + "\n");
    }
  });
}

}  // namespace slimformer::tools
