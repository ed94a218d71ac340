#include "slimformer/methods/importance/importance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "slimformer/core/files.h"
#include "slimformer/eval/correlation.h"
#include "slimformer/eval/translation_evaluator.h"
#include "slimformer/methods/importance/importance_io.h"
#include "slimformer/methods/surgery/module_surgery.h"
#include "slimformer/report/importance_report.h"
#include "slimformer/train/checkpoint.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

using methods::ImportanceOptions;
using methods::ImportanceResult;

core::TensorMap cloned_state(models::ModelTree& model) {
  core::TensorMap out;
  for (const auto& [k, v] : model.state()) out[k] = v.detach().clone();
  return out;
}

// A metric with a known answer: 50, minus `weight` for each switched-off sublayer, minus
// 10 * weight * (1 - alpha) for a sublayer moved toward its init. Records what it was told.
class FakeEvaluator : public eval::ModelEvaluator {
 public:
  FakeEvaluator(models::ModelTree& model, std::map<std::string, double> weights,
                core::TensorMap init, core::TensorMap final)
      : model_(model), weights_(std::move(weights)), init_(init), final_(final) {}
  std::string metric() const override { return "bleu"; }
  bool higher_is_better() const override { return true; }
  size_t examples() const override { return 1; }
  double evaluate(const std::vector<std::string>& changed) override {
    calls.push_back(changed);
    double value = 50;
    for (auto& s : model_.sublayers()) {
      const double w = weights_.count(s->path()) ? weights_.at(s->path()) : 0.0;
      if (!s->enabled()) {
        value -= w;
        continue;
      }
      // (1 - alpha) from any one parameter: theta - final = (1 - alpha)(init - final).
      auto key = s->path() + ".block.fc1.weight";
      if (!init_.count(key)) key = s->path() + ".block.q_proj.weight";
      auto gap = init_.at(key) - final_.at(key);
      const double one_minus_alpha =
          ((s->state().at(key) - final_.at(key)) * gap).sum().item<double>() /
          (gap * gap).sum().item<double>();
      value -= 10 * w * one_minus_alpha;
    }
    return value;
  }
  std::vector<std::vector<std::string>> calls;

 private:
  models::ModelTree& model_;
  std::map<std::string, double> weights_;
  core::TensorMap init_, final_;
};

// The fake metric's weights: drops of 0.5, 2 and 8 BLEU; every other sublayer 0.
const std::map<std::string, double> kWeights = {{"encoder.layers.0.ffn", 0.5},
                                                {"decoder.layers.1.ffn", 2.0},
                                                {"decoder.layers.0.self_attn", 8.0}};

struct TrainedTinyModel {
  models::Seq2SeqTransformer model{models::Seq2SeqTransformer(testing::tiny_config(50))};
  core::TensorMap init, final;
  TrainedTinyModel() {
    init = cloned_state(*model);
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.1);
    final = cloned_state(*model);
  }
};

TEST(Importance, ContributionClipsAndNormalizesAndCriticalityBisects) {
  TrainedTinyModel t;
  const auto weights = kWeights;
  FakeEvaluator evaluator(*t.model, weights, t.init, t.final);
  ImportanceOptions options;
  options.tolerance = 0.01;
  auto r = methods::score_importance(*t.model, t.init, evaluator, options);
  EXPECT_EQ(r.baseline, 50);
  EXPECT_EQ(r.clip, 5);
  EXPECT_EQ(r.threshold, 0.5);
  ASSERT_EQ(r.sublayers.size(), 10u);  // 2 encoder layers x 2 + 2 decoder layers x 3
  std::map<std::string, methods::SublayerImportance> by_path;
  for (const auto& s : r.sublayers) by_path[s.path] = s;
  // Drops 0.5, 2 and 8 (clipped to 5) divided by 5.
  EXPECT_NEAR(by_path["encoder.layers.0.ffn"].contribution, 0.1, 1e-9);
  EXPECT_NEAR(by_path["decoder.layers.1.ffn"].contribution, 0.4, 1e-9);
  EXPECT_NEAR(by_path["decoder.layers.0.self_attn"].contribution, 1.0, 1e-9);
  EXPECT_EQ(by_path["encoder.layers.1.self_attn"].contribution, 0.0);
  // Within 0.5 of 50 needs 10 w (1 - alpha) <= 0.5, i.e. alpha >= 1 - 0.05 / w; bisection
  // returns the upper end of an interval narrower than the tolerance.
  EXPECT_EQ(by_path["encoder.layers.1.self_attn"].criticality, 0.0);
  for (const auto& [path, w] : weights) {
    const double exact = 1 - 0.05 / w;
    EXPECT_GE(by_path[path].criticality, exact - 1e-9) << path;
    EXPECT_LE(by_path[path].criticality, exact + 0.01) << path;
  }
  // Every scoring evaluation names exactly the sublayer it changed; the model is as it was.
  for (size_t i = 1; i < evaluator.calls.size(); ++i)
    EXPECT_EQ(evaluator.calls[i], std::vector<std::string>{r.evaluations[i].path});
  EXPECT_EQ(r.evaluations.size(), evaluator.calls.size());
  for (const auto& [k, v] : t.model->state()) EXPECT_TRUE(torch::equal(v, t.final.at(k))) << k;
  for (auto& s : t.model->sublayers()) EXPECT_TRUE(s->enabled()) << s->path();
}

TEST(Importance, WithoutAClipTheLargestDropScoresOne) {
  TrainedTinyModel t;
  FakeEvaluator evaluator(*t.model, kWeights, t.init, t.final);
  ImportanceOptions options;
  options.criticality = false;
  options.clip_fraction = 0;
  auto r = methods::score_importance(*t.model, t.init, evaluator, options);
  EXPECT_EQ(r.clip, 8);  // the largest drop
  std::map<std::string, double> contribution;
  for (const auto& s : r.sublayers) contribution[s.path] = s.contribution;
  EXPECT_NEAR(contribution["encoder.layers.0.ffn"], 0.5 / 8, 1e-9);
  EXPECT_NEAR(contribution["decoder.layers.1.ffn"], 2.0 / 8, 1e-9);
  EXPECT_NEAR(contribution["decoder.layers.0.self_attn"], 1.0, 1e-9);
  // The paper's clip for BLEU and chrF; none for metrics whose drops would saturate it.
  EXPECT_EQ(eval::default_clip_fraction("bleu"), 0.1);
  EXPECT_EQ(eval::default_clip_fraction("ppl"), 0.0);
  EXPECT_EQ(eval::default_clip_fraction("accuracy"), 0.0);
}

TEST(Importance, RankingRemovalCurveAndErrors) {
  TrainedTinyModel t;
  const auto weights = kWeights;
  FakeEvaluator evaluator(*t.model, weights, t.init, t.final);
  ImportanceOptions options;
  options.criticality = false;
  auto r = methods::score_importance(*t.model, t.init, evaluator, options);
  // Zero-scored sublayers first (later ones first among equals), then by score.
  auto order = methods::least_important(r, "contribution", 10);
  EXPECT_EQ(order[0], "decoder.layers.1.cross_attn");
  EXPECT_EQ(order[7], "encoder.layers.0.ffn");
  EXPECT_EQ(order[8], "decoder.layers.1.ffn");
  EXPECT_EQ(order[9], "decoder.layers.0.self_attn");
  auto curve = methods::removal_curve(*t.model, evaluator, order, 10);
  ASSERT_EQ(curve.size(), 11u);
  EXPECT_EQ(curve[8].value, 49.5);
  EXPECT_EQ(curve[10].value, 39.5);
  EXPECT_EQ(curve[10].removed.size(), 10u);
  for (auto& s : t.model->sublayers()) EXPECT_TRUE(s->enabled()) << s->path();

  testing::expect_user_error([&] { methods::least_important(r, "contribution", 11); },
                             "--k must be in [0, 10] (the scored sublayers), got 11");
  testing::expect_user_error(
      [&] { methods::least_important(r, "criticality", 1); },
      "these importance results have no criticality scores (run importance with --scores "
      "criticality)");
  testing::expect_user_error([&] { methods::least_important(r, "magnitude", 1); },
                             "score magnitude is unknown; use contribution or criticality");
  options.paths = {"decoder.layers.9.ffn"};
  testing::expect_user_error(
      [&] { methods::score_importance(*t.model, t.init, evaluator, options); },
      "no sublayer decoder.layers.9.ffn in this model (paths: encoder.layers.0.self_attn, "
      "encoder.layers.0.ffn, ..., decoder.layers.1.ffn)");
  options.paths = {};
  options.criticality = true;
  testing::expect_user_error(
      [&] { methods::score_importance(*t.model, {}, evaluator, options); },
      "criticality needs the model's initial parameters, and "
      "encoder.layers.0.self_attn.block.k_proj.bias is not among them (a checkpoint without "
      "init.safetensors; use --scores contribution)");
}

TEST(Importance, SublayerPlaces) {
  auto p = methods::sublayer_place("decoder.layers.4.cross_attn");
  EXPECT_EQ(p.label, "D:EA");
  EXPECT_EQ(p.layer, 4);
  EXPECT_EQ(methods::sublayer_place("encoder.layers.0.ffn").label, "E:FF");
  testing::expect_user_error([] { methods::sublayer_place("encoder.layer.0.ffn"); },
                             "sublayer path encoder.layer.0.ffn is not of the form "
                             "encoder|decoder.layers.N.self_attn|cross_attn|ffn");
}

TEST(Correlation, SpearmanAveragesTiedRanksAsScipyDoes) {
  EXPECT_EQ(eval::average_ranks({5, 6, 7, 8, 7}), (std::vector<double>{1, 2, 3.5, 5, 3.5}));
  // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).statistic
  EXPECT_NEAR(eval::spearman({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}), 0.8207826816681234, 1e-12);
  EXPECT_NEAR(eval::pearson({0.1, 0.4, 0.4, 0.9}, {0.2, 0.1, 0.5, 0.7}), 0.7846767587469478, 1e-12);
  EXPECT_TRUE(std::isnan(eval::spearman({1, 1, 1}, {1, 2, 3})));
}

ImportanceResult small_result() {
  ImportanceResult r;
  r.metric = "bleu", r.examples = 7, r.baseline = 30, r.threshold = 0.5, r.clip = 3;
  r.tolerance = 0.05, r.seconds = 2;
  for (const char* path :
       {"encoder.layers.0.self_attn", "encoder.layers.0.ffn", "decoder.layers.0.self_attn",
        "decoder.layers.0.cross_attn", "decoder.layers.0.ffn", "decoder.layers.1.ffn"}) {
    methods::SublayerImportance s;
    s.path = path, s.place = methods::sublayer_place(path), s.parameters = 10;
    r.sublayers.push_back(s);
  }
  const double contribution[] = {0.2, 1.0, 0.0, 0.5, 1.0, 0.7};
  const double criticality[] = {0.5, 0.9, 0.1, 0.4, 0.95, 0.7};
  for (size_t i = 0; i < r.sublayers.size(); ++i) {
    r.sublayers[i].contribution = contribution[i];
    r.sublayers[i].criticality = criticality[i];
    r.sublayers[i].drop = contribution[i] * 3;
    r.sublayers[i].metric_off = 30 - contribution[i] * 3;
  }
  r.evaluations.push_back({"", "full", 1.0, 30, 0.1});
  r.removal_curves["contribution"] = {{0, {}, 30}, {1, {"decoder.layers.0.self_attn"}, 29.5}};
  return r;
}

TEST(ImportanceIo, JsonRoundTripAndMalformedFiles) {
  auto r = small_result();
  r.sublayers[2].criticality = NAN;  // not computed: written as null
  auto back = methods::importance_from_json(methods::importance_to_json(r), "x");
  ASSERT_EQ(back.sublayers.size(), r.sublayers.size());
  EXPECT_EQ(back.sublayers[1].contribution, 1.0);
  EXPECT_TRUE(std::isnan(back.sublayers[2].criticality));
  EXPECT_EQ(back.removal_curves.at("contribution")[1].removed[0], "decoder.layers.0.self_attn");
  EXPECT_EQ(back.evaluations.size(), 1u);

  testing::TempDir dir;
  testing::write_file(dir / "results.json", "{\"metric\": \"bleu\"");
  testing::expect_user_error(
      [&] { methods::load_importance(dir.path()); },
      (dir / "results.json").string() +
          ": malformed JSON: [json.exception.parse_error.101] parse error at line 1, column 18: "
          "syntax error while parsing object - unexpected end of input; expected '}'");
  auto j = methods::importance_to_json(small_result());
  j.erase("baseline");
  testing::expect_user_error([&] { methods::importance_from_json(j, "r.json"); },
                             "r.json: missing field baseline");
  j = methods::importance_to_json(small_result());
  j["sublayers"][0]["path"] = 3;
  testing::expect_user_error([&] { methods::importance_from_json(j, "r.json"); },
                             "r.json: field path has the wrong type");
  testing::expect_user_error(
      [&] { methods::load_importance(dir / "none"); },
      (dir / "none").string() + ": no importance results (run slimformer importance)");
}

TEST(ImportanceReport, HeatMapLayoutAgreementAndFiles) {
  auto r = small_result();
  auto map = report::importance_heat_map(r, "contribution");
  EXPECT_EQ(map.rows, (std::vector<std::string>{"layer 0", "layer 1"}));
  EXPECT_EQ(map.columns, (std::vector<std::string>{"E:SA", "E:FF", "D:SA", "D:EA", "D:FF"}));
  EXPECT_EQ(map.values[0][3], 0.5);
  EXPECT_EQ(map.values[1][4], 0.7);
  EXPECT_TRUE(std::isnan(map.values[1][0]));  // no second encoder layer
  auto agreement = report::importance_agreement(r, &r, "itself");
  ASSERT_EQ(agreement.size(), 3u);
  EXPECT_NEAR(agreement[0].spearman,
              eval::spearman(r.scores("contribution"), r.scores("criticality")), 1e-12);
  EXPECT_NEAR(agreement[1].spearman, 1.0, 1e-12);
  testing::TempDir dir;
  report::write_importance_report(r, dir.path());
  for (const char* f :
       {"report.html", "heatmap_contribution.svg", "heatmap_criticality.svg", "removal_curves.svg"})
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  const auto svg = core::read_file(dir / "heatmap_contribution.svg");
  size_t cells = 0;
  for (size_t at = svg.find("<title>"); at != std::string::npos; at = svg.find("<title>", at + 1))
    ++cells;
  EXPECT_EQ(cells, 6u);  // one per scored sublayer; the empty cells have none
  EXPECT_EQ(report::nice_ticks(0, 3, 6, 1), (std::vector<double>{0, 1, 2, 3}));
}

TEST(ModuleSurgery, PrunedCheckpointReloadsWithIdenticalOutputs) {
  TrainedTinyModel t;
  const auto& vocab = testing::small_vocab();
  models::Seq2SeqTransformer model(testing::tiny_config(vocab.size()));
  auto init = cloned_state(*model);
  model->eval();
  const std::vector<std::string> paths = {"decoder.layers.1.self_attn", "encoder.layers.0.ffn"};
  const int64_t before = model->num_parameters();
  methods::remove_sublayers(*model, paths);
  EXPECT_EQ(before - model->num_parameters(), t.model->sublayer(paths[0])->num_parameters() +
                                                  t.model->sublayer(paths[1])->num_parameters());
  testing::TempDir dir;
  core::write_directory_atomically(dir / "pruned", [&](const std::filesystem::path& tmp) {
    train::write_model_files(tmp, *model, init, vocab, {{"command", "test"}});
  });
  auto ckpt = train::load_seq2seq(dir / "pruned", torch::kCPU);
  ckpt.model->eval();
  EXPECT_EQ(ckpt.model->config().removed_sublayers, paths);
  EXPECT_EQ(ckpt.model->num_parameters(), model->num_parameters());
  EXPECT_EQ(ckpt.init.size(), ckpt.model->state().size());  // removed parts left init too
  torch::NoGradGuard no_grad;
  auto src = torch::randint(4, vocab.size(), {2, 6}), tgt = torch::randint(4, vocab.size(), {2, 5});
  EXPECT_TRUE(torch::equal(model->forward(src, tgt), ckpt.model->forward(src, tgt)));

  testing::expect_user_error([&] { methods::remove_sublayers(*model, {paths[0]}); },
                             "sublayer decoder.layers.1.self_attn has already been removed");
  testing::expect_user_error(
      [&] {
        methods::remove_sublayers(*model, {"decoder.layers.0.ffn", "decoder.layers.0.ffn"});
      },
      "sublayer decoder.layers.0.ffn is named twice");
}

TEST(ModuleSurgery, RewindResetsOnlyTheNamedSublayers) {
  TrainedTinyModel t;
  methods::rewind_sublayers(*t.model, t.init, {"decoder.layers.0.cross_attn"});
  for (const auto& [k, v] : t.model->state()) {
    const bool rewound = k.starts_with("decoder.layers.0.cross_attn.");
    EXPECT_TRUE(torch::equal(v, (rewound ? t.init : t.final).at(k))) << k;
  }
  testing::expect_user_error(
      [&] { methods::rewind_sublayers(*t.model, {}, {"encoder.layers.0.ffn"}); },
      "rewinding encoder.layers.0.ffn needs its initial parameters, and "
      "encoder.layers.0.ffn.block.fc1.bias is not among them");
}

TEST(ModuleSurgery, RandomChoiceIsSeededAndDistinct) {
  models::Seq2SeqTransformer model(testing::tiny_config(50));
  model->remove("decoder.layers.0.ffn");
  auto a = methods::random_sublayers(*model, 4, 3);
  EXPECT_EQ(a, methods::random_sublayers(*model, 4, 3));
  EXPECT_NE(a, methods::random_sublayers(*model, 4, 4));
  EXPECT_EQ(std::set<std::string>(a.begin(), a.end()).size(), 4u);
  for (const auto& path : a) EXPECT_FALSE(model->sublayer(path)->removed()) << path;
  EXPECT_EQ(methods::random_sublayers(*model, 9, 1).size(), 9u);  // every one still present
  testing::expect_user_error([&] { methods::random_sublayers(*model, 10, 1); },
                             "--k must be in [0, 9] (the sublayers present), got 10");
}

TEST(TranslationEvaluator, ReusedEncoderOutputGivesTheSameScores) {
  const auto& vocab = testing::small_vocab();
  models::Seq2SeqTransformer model(testing::tiny_config(vocab.size()));
  auto text = data::read_parallel(testing::data_file("multi30k/val.en.gz"),
                                  testing::data_file("multi30k/val.de.gz"));
  text.source.resize(12), text.target.resize(12);
  // An untrained model scores 0 BLEU against real references; against its own greedy output it
  // scores 100, and changing a sublayer moves the score.
  auto own_output = text;
  own_output.target = eval::translate(*model, vocab, text.source, {}, torch::kCPU);
  for (const std::string metric : {"bleu", "loss", "ppl"}) {
    eval::TranslationEvaluator evaluator(*model, vocab, metric == "bleu" ? own_output : text,
                                         metric, {}, torch::kCPU);
    const double full = evaluator.evaluate({});
    auto sublayer = model->sublayer("decoder.layers.1.ffn");
    sublayer->set_enabled(false);
    const double reused = evaluator.evaluate({"decoder.layers.1.ffn"});
    // Naming an encoder sublayer forces the encoder to run again.
    const double recomputed = evaluator.evaluate({"encoder.layers.0.ffn", "decoder.layers.1.ffn"});
    sublayer->set_enabled(true);
    EXPECT_EQ(reused, recomputed) << metric;
    EXPECT_NE(reused, full) << metric;
    EXPECT_EQ(evaluator.evaluate({}), full) << metric;
  }
  testing::expect_user_error(
      [&] { eval::TranslationEvaluator(*model, vocab, text, "accuracy", {}, torch::kCPU); },
      "--metric accuracy: a translation model is scored by bleu, chrf, loss, ppl");
}

}  // namespace
}  // namespace slimformer
