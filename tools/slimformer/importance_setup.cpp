#include "importance_setup.h"

#include <fmt/format.h>

#include <fstream>

#include "commands.h"
#include "progress.h"
#include "slimformer/core/files.h"
#include "slimformer/data/parallel_corpus.h"
#include "slimformer/eval/translation_evaluator.h"
#include "slimformer/methods/importance/importance_io.h"
#include "slimformer/report/importance_report.h"

namespace slimformer::tools {

namespace fs = std::filesystem;
using nlohmann::json;

void add_importance_options(CommandOptions& options) {
  options.add("data.src", "data/multi30k/val.en.gz", "source side of the evaluation set");
  options.add("data.ref", "data/multi30k/val.de.gz", "reference side of the evaluation set");
  options.add("data.samples", 500, "evaluate on the first N sentence pairs (0: all)");
  options.add("importance.metric", "bleu", "bleu, loss or ppl (translation models)");
  options.add("importance.scores", "contribution,criticality",
              "which scores: contribution, criticality or both");
  options.add("importance.threshold", -1.0,
              "criticality keeps the metric within this of the full model (<0: 0.5 BLEU, 0.01 "
              "nats of loss, 1% of perplexity)");
  options.add("importance.tolerance", 0.05, "criticality bisection stops at this alpha interval");
  options.add("importance.clip", 0.1,
              "contribution clips drops at this fraction of the full score");
  options.add("importance.beam", 1, "beam size for BLEU (1: greedy)", "--beam");
  options.add("importance.curve_max_k", 8,
              "removal curves switch off up to this many sublayers (0: no curves)");
  options.add("importance.paths", "", "score only these sublayers (comma-separated; empty: all)");
}

methods::ImportanceResult run_importance(models::Seq2SeqTransformerImpl& model,
                                         const data::Vocab& vocab, const core::TensorMap& init,
                                         const core::Settings& s, const torch::Device& device,
                                         const fs::path& out, const json& record) {
  methods::ImportanceOptions options;
  const auto scores = get_list(s, "importance.scores");
  for (const auto& name : scores)
    if (name != methods::kContribution && name != methods::kCriticality)
      s.fail("importance.scores",
             fmt::format("must name contribution and/or criticality, got {}", name));
  options.contribution =
      std::find(scores.begin(), scores.end(), methods::kContribution) != scores.end();
  options.criticality =
      std::find(scores.begin(), scores.end(), methods::kCriticality) != scores.end();
  if (!options.contribution && !options.criticality)
    s.fail("importance.scores", "must name contribution, criticality or both");
  options.threshold = s.get_double("importance.threshold");
  options.tolerance = s.get_double_in("importance.tolerance", 1e-6, 1, true);
  options.clip_fraction = s.get_double_in("importance.clip", 1e-6, 1e6, false);
  options.paths = get_list(s, "importance.paths");
  options.stop_requested = &g_stop_requested;
  eval::DecodeOptions decode;
  decode.beam_size = s.get_int_at_least("importance.beam", 1);
  const int64_t curve_max_k = s.get_int_at_least("importance.curve_max_k", 0);

  auto text = data::read_parallel(s.get_string("data.src"), s.get_string("data.ref"));
  const int64_t samples = s.get_int_at_least("data.samples", 0);
  if (samples > 0 && size_t(samples) < text.source.size())
    text.source.resize(samples), text.target.resize(samples);
  eval::TranslationEvaluator evaluator(model, vocab, std::move(text),
                                       s.get_string("importance.metric"), decode, device);

  // Every evaluation is logged as it happens, so a long run can be followed and inspected.
  fs::create_directories(out);
  std::ofstream log(out / "evaluations.jsonl", std::ios::trunc);
  options.on_evaluation = [&](const methods::Evaluation& e) {
    log << json({{"path", e.path},
                 {"action", e.action},
                 {"alpha", e.alpha},
                 {"value", e.value},
                 {"seconds", e.seconds}})
               .dump()
        << std::endl;
  };
  ProgressBar bar("importance");
  auto show = [&](const methods::ImportanceProgress& p) {
    bar.update(p.done, p.total, p.path.empty() ? p.phase : p.phase + " " + p.path);
  };
  auto result = methods::score_importance(model, init, evaluator, options, show);
  bar.finish();
  for (const char* by : {methods::kContribution, methods::kCriticality}) {
    if (curve_max_k == 0 ||
        (by == methods::kContribution ? !options.contribution : !options.criticality))
      continue;
    const int64_t k = std::min<int64_t>(curve_max_k, result.sublayers.size());
    ProgressBar curve_bar(fmt::format("curve {}", by));
    result.removal_curves[by] = methods::removal_curve(
        model, evaluator, methods::least_important(result, by, k), k,
        [&](const methods::ImportanceProgress& p) { curve_bar.update(p.done, p.total, p.path); },
        &g_stop_requested);
    curve_bar.finish();
  }

  json results = methods::importance_to_json(result);
  results.update(record);
  core::write_text_atomically(out / "results.json", results.dump(2) + "\n");
  methods::write_importance_csv(out, result);
  report::write_importance_report(result, out);
  return result;
}

}  // namespace slimformer::tools
