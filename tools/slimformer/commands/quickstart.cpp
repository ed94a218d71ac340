// slimformer quickstart: the flagship pipeline on the bundled model and data. Checks the runtime,
// loads the bundled Multi30k English-German model, translates test2016 greedily and with beam
// search, scores both with BLEU, times them, and writes results.json and report.html.
#include <fmt/format.h>

#include <chrono>

#include "command_line.h"
#include "commands.h"
#include "options.h"
#include "progress.h"
#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/core/runtime.h"
#include "slimformer/data/text_file.h"
#include "slimformer/eval/bleu.h"
#include "slimformer/eval/chrf.h"
#include "slimformer/eval/decoding.h"
#include "slimformer/report/html_report.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct QuickstartOptions {
  std::string model = "models/multi30k-base";
  std::string src = "data/multi30k/test_2016_flickr.en.gz";
  std::string ref = "data/multi30k/test_2016_flickr.de.gz";
  int64_t sentences = 0;
  int64_t beam = 4;
  std::string output = "runs/quickstart";
};

struct DecodeRun {
  std::string name;
  int64_t beam;
  std::vector<std::string> hyps;
  eval::BleuResult bleu;
  double chrf = 0;
  double seconds = 0;
};

void run_quickstart(const QuickstartOptions& o, const CommonOptions& common) {
  const auto device = core::parse_device(common.device);
  auto info = core::runtime_info();
  fmt::print("== runtime\nLibTorch {} on {} ({}), {} BLAS threads, {:.0f} GFLOP/s float32 matmul\n",
             info.libtorch_version, info.blas_is_openblas ? "OpenBLAS" : "a non-OpenBLAS BLAS",
             info.blas_library, info.openblas_threads, core::measure_matmul_gflops(512, 20));

  auto ckpt = train::load_seq2seq(o.model, device);
  const auto& c = ckpt.model->config();
  fmt::print("\n== model {}\n{}+{} layers, d_model {}, {} parameters, {:.1f} MB on disk\n", o.model,
             c.encoder_layers, c.decoder_layers, c.d_model, ckpt.model->num_parameters(),
             core::directory_bytes(o.model) / 1e6);

  auto sources = data::read_lines(o.src);
  auto refs = data::read_lines(o.ref);
  if (sources.size() != refs.size())
    throw core::UserError(
        fmt::format("{} has {} lines but {} has {}", o.src, sources.size(), o.ref, refs.size()));
  if (o.sentences > 0 && size_t(o.sentences) < sources.size())
    sources.resize(o.sentences), refs.resize(o.sentences);

  std::vector<DecodeRun> runs = {{"greedy", 1}, {fmt::format("beam {}", o.beam), o.beam}};
  fmt::print("\n== translating {} sentences of {}\n", sources.size(), o.src);
  for (auto& run : runs) {
    eval::DecodeOptions decode;
    decode.beam_size = run.beam;
    ProgressBar bar(run.name);
    auto start = std::chrono::steady_clock::now();
    run.hyps = eval::translate(*ckpt.model, ckpt.vocab, sources, decode, device,
                               [&](size_t done, size_t total) { bar.update(done, total); });
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bar.finish();
    run.bleu = eval::corpus_bleu(run.hyps, {refs});
    run.chrf = eval::corpus_chrf(run.hyps, refs).score;
    fmt::print("{:<8} {}  chrF2 = {:.2f}  ({:.1f} s, {:.1f} sentences/s)\n", run.name,
               run.bleu.format(), run.chrf, run.seconds, sources.size() / run.seconds);
  }
  fmt::print("signature {}\n", runs.back().bleu.signature());

  fmt::print("\n== examples\n");
  std::vector<std::vector<std::string>> example_rows;
  for (size_t i = 0; i < std::min<size_t>(3, sources.size()); ++i) {
    fmt::print("src  {}\nhyp  {}\nref  {}\n\n", sources[i], runs.back().hyps[i], refs[i]);
    example_rows.push_back({sources[i], runs.back().hyps[i], refs[i]});
  }

  const fs::path out = o.output;
  fs::create_directories(out);
  json results = {{"model", o.model},
                  {"parameters", ckpt.model->num_parameters()},
                  {"sentences", sources.size()},
                  {"blas", info.blas_library},
                  {"signature", runs.back().bleu.signature()},
                  {"command", command_line()}};
  std::vector<std::vector<std::string>> rows;
  for (const auto& run : runs) {
    results["decoding"][run.name] = {{"bleu", run.bleu.score},
                                     {"bleu_line", run.bleu.format()},
                                     {"chrf", run.chrf},
                                     {"seconds", run.seconds},
                                     {"sentences_per_second", sources.size() / run.seconds}};
    rows.push_back({run.name, fmt::format("{:.2f}", run.bleu.score),
                    fmt::format("{:.2f}", run.chrf), fmt::format("{:.1f}", run.seconds),
                    fmt::format("{:.1f}", sources.size() / run.seconds)});
    std::string text;
    for (const auto& h : run.hyps) text += h + "\n";
    core::write_text_atomically(
        out / fmt::format("translations.{}.txt", run.beam == 1 ? "greedy" : "beam"), text);
  }
  core::write_text_atomically(out / "results.json", results.dump(2) + "\n");

  report::HtmlReport html("slimformer quickstart");
  html.paragraph(
      fmt::format("Model {}: {}+{} layers, d_model {}, {} parameters. Runtime: LibTorch {} on {}.",
                  o.model, c.encoder_layers, c.decoder_layers, c.d_model,
                  ckpt.model->num_parameters(), info.libtorch_version, info.blas_library));
  html.heading(fmt::format("BLEU on {} ({} sentences)", o.src, sources.size()));
  html.table({"decoding", "BLEU", "chrF2", "seconds", "sentences/s"}, rows);
  html.paragraph("sacreBLEU signature: " + runs.back().bleu.signature());
  html.heading("Examples");
  html.table({"source", "translation", "reference"}, example_rows);
  html.save(out / "report.html");
  fmt::print("wrote {}/results.json and {}/report.html\n", out.string(), out.string());
}

}  // namespace

void register_quickstart(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "quickstart", "the flagship pipeline on the bundled model and data, with a report");
  auto o = std::make_shared<QuickstartOptions>();
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("--model", o->model, "checkpoint directory")->capture_default_str();
  cmd->add_option("--src", o->src, "source side of the test set")->capture_default_str();
  cmd->add_option("--ref", o->ref, "reference side of the test set")->capture_default_str();
  cmd->add_option("--sentences", o->sentences, "translate only the first N sentences (0: all)")
      ->capture_default_str();
  cmd->add_option("--beam", o->beam, "beam size of the beam-search run")->capture_default_str();
  cmd->add_option("--output", o->output, "where results.json and report.html go")
      ->capture_default_str();
  common->add_to(cmd);
  cmd->callback([o, common] {
    common->apply();
    run_quickstart(*o, *common);
  });
}

}  // namespace slimformer::tools
