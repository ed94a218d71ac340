// slimformer evaluate: BLEU of a model (or of a file of translations) against references,
// printed with sacreBLEU's signature.
#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "command_line.h"
#include "commands.h"
#include "decode_options.h"
#include "options.h"
#include "progress.h"
#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/core/runtime.h"
#include "slimformer/data/text_file.h"
#include "slimformer/eval/bleu.h"
#include "slimformer/eval/chrf.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

void register_evaluate(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "evaluate", "BLEU of a model's translations (or of a file) against references");
  auto model_dir = std::make_shared<std::string>();
  auto src = std::make_shared<std::string>("data/multi30k/test_2016_flickr.en.gz");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto hyp_file = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto decode = std::make_shared<eval::DecodeOptions>();
  decode->beam_size = 5;
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("model", *model_dir, "checkpoint directory (omit with --hyp)");
  cmd->add_option("--src", *src, "source text to translate")->capture_default_str();
  cmd->add_option("--ref", *refs, "reference translations (repeat for several)");
  cmd->add_option("--hyp", *hyp_file, "score this file of translations instead of decoding");
  cmd->add_option("--output", *output, "write translations.txt and results.json to this directory");
  add_decode_options(cmd, *decode);
  common->add_to(cmd);
  cmd->callback([=] {
    common->apply();
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
      const auto device = core::parse_device(common->device);
      auto ckpt = train::load_seq2seq(*model_dir, device);
      auto lines = data::read_lines(*src);
      ProgressBar bar("translate");
      auto start = std::chrono::steady_clock::now();
      hyps = eval::translate(*ckpt.model, ckpt.vocab, lines, *decode, device,
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
