#include "importance_setup.h"

#include <fmt/format.h>

#include <map>
#include <memory>

#include "commands.h"
#include "slimformer/pipeline/progress_reports.h"

namespace slimformer::tools {

void add_importance_options(CommandOptions& options) {
  options.add("data.src", "",
              "translation: source side of the evaluation set (default: Multi30k validation)");
  options.add("data.ref", "", "translation: reference side of the evaluation set");
  options.add("data.text", "",
              "language models: running text, scored by perplexity; masked-LM encoders: text "
              "whose sentence pairs are scored (default: the held-out pairs of its pre-training)");
  options.add("data.glue", "",
              "classification encoders: GLUE task (default: the task the model was fine-tuned on)");
  options.add("data.glue_file", "", "classification encoders: labelled TSV (default: its dev set)");
  options.add("data.squad_file", "",
              "span encoders: SQuAD v1.1 file whose held-out articles are scored (default: the "
              "file the model was fine-tuned with)");
  options.add("data.samples", 500, "evaluate on the first N pairs, lines or examples (0: all)");
  options.add(
      "importance.metric", "",
      "bleu, chrf, loss or ppl (translation); ppl or loss (language models); accuracy, "
      "f1, mcc, pearson (GLUE); f1 or exact_match (SQuAD); accuracy, loss or ppl (masked-LM "
      "encoders); empty: bleu, ppl, the task's own, f1, accuracy");
  options.add("importance.scores", "contribution,criticality",
              "which scores: contribution, criticality or both");
  options.add("importance.threshold", -1.0,
              "criticality keeps the metric within this of the full model (<0: 0.5 BLEU or "
              "points, 0.01 nats of loss, 1% of perplexity)");
  options.add("importance.tolerance", 0.05, "criticality bisection stops at this alpha interval");
  options.add("importance.clip", -1.0,
              "contribution clips drops at this fraction of the full score (0: no clip; <0: 0.1 "
              "for BLEU and chrF as the paper, none for other metrics)");
  options.add("importance.beam", 1, "translation: beam size for BLEU (1: greedy)", "--beam");
  options.add("importance.curve_max_k", 8,
              "removal curves switch off up to this many sublayers (0: no curves)");
  options.add("importance.paths", "", "score only these sublayers (comma-separated; empty: all)");
}

pipeline::EvaluationOptions importance_evaluation(const core::Settings& s,
                                                  const models::TransformerConfig& config,
                                                  const torch::Device& device) {
  pipeline::EvaluationOptions e;
  e.device = device;
  e.metric = s.get_string("importance.metric");
  e.samples = s.get_int_at_least("data.samples", 0);
  e.source = given_string(s, "data.src");
  e.reference = given_string(s, "data.ref");
  e.beam = s.get_int_at_least("importance.beam", 1);
  e.text = given_string(s, "data.text");
  // The scoring window: the importance command's own data.context, or the training window of a
  // command that also fine-tunes.
  if (s.has("data.context") && s.origin("data.context") != "default")
    e.context = s.get_int_at_least("data.context", 0);
  e.glue_task = given_string(s, "data.glue");
  e.glue_file = given_string(s, "data.glue_file");
  e.squad_file = given_string(s, "data.squad_file");
  pipeline::use_bundled_data(e, config, pipeline::DataSplit::kValidation);
  return e;
}

pipeline::ImportanceRunOptions importance_run_options(const core::Settings& s) {
  pipeline::ImportanceRunOptions o;
  auto& scoring = o.scoring;
  const auto scores = get_list(s, "importance.scores");
  for (const auto& name : scores)
    if (name != methods::kContribution && name != methods::kCriticality)
      s.fail("importance.scores",
             fmt::format("must name contribution and/or criticality ({} is neither)", name));
  scoring.contribution =
      std::find(scores.begin(), scores.end(), methods::kContribution) != scores.end();
  scoring.criticality =
      std::find(scores.begin(), scores.end(), methods::kCriticality) != scores.end();
  if (!scoring.contribution && !scoring.criticality)
    s.fail("importance.scores", "must name contribution, criticality or both");
  scoring.threshold = s.get_double("importance.threshold");
  scoring.tolerance = s.get_double_in("importance.tolerance", 1e-6, 1, true);
  scoring.clip_fraction = s.get_double("importance.clip");
  scoring.paths = get_list(s, "importance.paths");
  scoring.stop_requested = &g_stop_requested;
  o.curve_max_k = s.get_int_at_least("importance.curve_max_k", 0);
  o.on_progress = pipeline::importance_progress();
  return o;
}

}  // namespace slimformer::tools
