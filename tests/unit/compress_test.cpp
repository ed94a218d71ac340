// Compression chains and comparisons: the chain recipe, the checks that refuse impossible chains
// before anything runs, resuming a chain at the step it stopped in, the chain recorded in each
// model, and the Pareto marking of the comparison report.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>

#include "slimformer/core/files.h"
#include "slimformer/pipeline/compress.h"
#include "slimformer/report/frontier.h"
#include "slimformer/train/checkpoint.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using pipeline::PlannedStep;
using testing::expect_user_error;

PlannedStep step(const std::string& command, json effective, const std::string& origin = "r.yaml:2") {
  PlannedStep p;
  p.step.command = command;
  p.step.origin = origin;
  p.effective = std::move(effective);
  return p;
}

TEST(Pareto, HandMadePointsHigherIsBetter) {
  // (cost, value): B dominates C (cheaper and better) and D (as cheap, worse); E is the most
  // accurate; A the cheapest.
  const std::vector<double> cost = {1, 2, 3, 2, 4};
  const std::vector<double> value = {30, 35, 34, 33, 36};
  EXPECT_EQ(report::pareto_optimal(cost, value, true),
            (std::vector<bool>{true, true, false, false, true}));
}

TEST(Pareto, LowerIsBetterAndTies) {
  // Perplexity: lower is better. Two identical points are both optimal.
  const std::vector<double> cost = {1, 1, 2, 3};
  const std::vector<double> value = {50, 50, 40, 45};
  EXPECT_EQ(report::pareto_optimal(cost, value, false),
            (std::vector<bool>{true, true, true, false}));
}

TEST(Pareto, MarksBothFrontiers) {
  report::Comparison c;
  c.higher_is_better = true;
  auto variant = [](std::string name, double value, double ms, double mb) {
    report::ComparedVariant v;
    v.name = std::move(name), v.value = value, v.latency_ms = ms, v.disk_mb = mb;
    return v;
  };
  c.variants = {variant("original", 36, 10, 14), variant("sparse", 35, 9, 5),
                variant("pruned", 34, 8, 12), variant("both", 33, 9.5, 4)};
  report::mark_frontiers(c);
  EXPECT_TRUE(c.variants[0].optimal_for_latency && c.variants[0].optimal_for_size);
  EXPECT_TRUE(c.variants[1].optimal_for_latency && c.variants[1].optimal_for_size);
  EXPECT_TRUE(c.variants[2].optimal_for_latency);
  EXPECT_FALSE(c.variants[2].optimal_for_size);  // "sparse" is smaller and better
  EXPECT_FALSE(c.variants[3].optimal_for_latency);
  EXPECT_TRUE(c.variants[3].optimal_for_size);
  EXPECT_DOUBLE_EQ(report::latency_spread(c.variants[0]), 1.0);  // one round: nothing to say
  c.variants[1].latency_rounds_ms = {9.0, 11.7, 10.0};
  EXPECT_NEAR(report::latency_spread(c.variants[1]), 1.3, 1e-12);
  const auto html = report::comparison_html(c);
  EXPECT_NE(html.find("its rounds differ by up to 1.30x"), std::string::npos);
  for (const char* name : {"original", "sparse", "pruned", "both"})
    EXPECT_NE(html.find(std::string(">") + name + "<"), std::string::npos) << name;
  EXPECT_NE(html.find("latency at batch 1 (ms per example)"), std::string::npos);
  EXPECT_NE(html.find("size on disk (MB)"), std::string::npos);
}

TEST(CompressionChain, ReadsStepsAndRefusesUnknownCommands) {
  testing::TempDir dir;
  const auto file = testing::write_file(dir / "chain.yaml",
                                        "defaults:\n  eval: {repeats: 1}\nsteps:\n"
                                        "  - importance:\n  - sparsify:\n      sparsify: {sparsity: 0.7}\n");
  const auto chain = pipeline::load_chain(file);
  ASSERT_EQ(chain.steps.size(), 2u);
  EXPECT_EQ(chain.steps[0].command, "importance");
  EXPECT_EQ(chain.steps[1].command, "sparsify");
  EXPECT_EQ(chain.steps[1].origin, file + ":5");
  EXPECT_EQ(chain.steps[1].options, json::parse(R"({"sparsify": {"sparsity": 0.7}})"));
  EXPECT_EQ(pipeline::flatten_options(chain.defaults), json::parse(R"({"eval.repeats": 1})"));

  const auto bad = testing::write_file(dir / "bad.yaml", "steps:\n  - quantize: {}\n");
  expect_user_error([&] { pipeline::load_chain(bad); },
                    bad + ":2: quantize is not a compression step; a step is one of importance, "
                          "prune-modules, sparsify, linearize, decompose");
  const auto empty = testing::write_file(dir / "empty.yaml", "defaults: {}\n");
  expect_user_error([&] { pipeline::load_chain(empty); },
                    empty + ": steps must list at least one step");
}

TEST(CompressionChain, RefusesImpossibleChainsBeforeTheyRun) {
  const auto config = testing::tiny_config();  // 2 + 2 layers
  // Linearizing the self-attention that an earlier step removed.
  expect_user_error(
      [&] {
        pipeline::check_chain(
            config,
            {step("prune-modules",
                  {{"prune.paths", "decoder.layers.0.self_attn,decoder.layers.1.self_attn"}}),
             step("linearize", {{"linearize.sublayers", "decoder.layers.*.self_attn"}},
                  "r.yaml:5")});
      },
      "step 2 (linearize, r.yaml:5): no softmax attention sublayer left to convert matches "
      "decoder.layers.*.self_attn: decoder.layers.0.self_attn (step 1 (prune-modules, "
      "r.yaml:2)), decoder.layers.1.self_attn (step 1 (prune-modules, r.yaml:2)) removed or "
      "converted by earlier steps");
  // Linearizing a pattern that also covers a removed sublayer (the command would refuse it).
  expect_user_error(
      [&] {
        pipeline::check_chain(
            config, {step("prune-modules", {{"prune.paths", "decoder.layers.0.self_attn"}}),
                     step("linearize", {{"linearize.sublayers", "decoder.layers.*.self_attn"}})});
      },
      "step 2 (linearize, r.yaml:2): decoder.layers.*.self_attn matches sublayers that are no "
      "longer softmax attention: decoder.layers.0.self_attn (step 1 (prune-modules, r.yaml:2)); "
      "name the ones left (decoder.layers.1.self_attn)");
  expect_user_error(
      [&] {
        pipeline::check_chain(config,
                              {step("linearize", {{"linearize.sublayers", "decoder.layers.*.ffn"}})});
      },
      "step 1 (linearize, r.yaml:2): linearize.sublayers decoder.layers.*.ffn matches no attention "
      "sublayer");
  // Pruning by criticality after an importance step that scored contribution only.
  expect_user_error(
      [&] {
        pipeline::check_chain(config, {step("importance", {{"importance.scores", "contribution"}}),
                                       step("prune-modules", {{"prune.by", "criticality"},
                                                              {"prune.k", 1},
                                                              {"prune.importance", ""}})});
      },
      "step 2 (prune-modules, r.yaml:2): ranks sublayers by criticality, which the importance "
      "step before it does not score (importance.scores: contribution)");
  // Converting the same sublayers twice.
  expect_user_error(
      [&] {
        pipeline::check_chain(config, {step("linearize", {{"linearize.sublayers", ""}}),
                                       step("linearize", {{"linearize.sublayers", ""}})});
      },
      "step 2 (linearize, r.yaml:2): no softmax attention sublayer left to convert matches "
      "decoder.**: decoder.layers.0.self_attn (step 1 (linearize, r.yaml:2) (linear attention "
      "now)), decoder.layers.0.cross_attn (step 1 (linearize, r.yaml:2) (linear attention now)), "
      "decoder.layers.1.self_attn (step 1 (linearize, r.yaml:2) (linear attention now)), "
      "decoder.layers.1.cross_attn (step 1 (linearize, r.yaml:2) (linear attention now)) removed "
      "or converted by earlier steps");
  // Ranking by importance with no importance results.
  expect_user_error(
      [&] {
        pipeline::check_chain(config,
                              {step("prune-modules", {{"prune.by", "contribution"}, {"prune.k", 2},
                                                      {"prune.importance", ""}})});
      },
      "step 1 (prune-modules, r.yaml:2): ranks sublayers by contribution but no importance step "
      "comes before it and prune.importance is empty (add an importance step, or give "
      "prune.paths or prune.by: random)");
  // The same with an importance step before it is a valid chain.
  pipeline::check_chain(config, {step("importance", json::object()),
                                 step("prune-modules", {{"prune.by", "contribution"},
                                                        {"prune.k", 2},
                                                        {"prune.importance", ""}}),
                                 step("sparsify", json::object()),
                                 step("linearize", {{"linearize.sublayers", ""}})});
  // Removing the same sublayer twice, and one the model does not have.
  expect_user_error(
      [&] {
        pipeline::check_chain(config, {step("prune-modules", {{"prune.paths", "encoder.layers.0.ffn"}}),
                                       step("prune-modules", {{"prune.paths", "encoder.layers.0.ffn"}})});
      },
      "step 2 (prune-modules, r.yaml:2): encoder.layers.0.ffn was already removed by step 1 "
      "(prune-modules, r.yaml:2)");
  expect_user_error(
      [&] {
        pipeline::check_chain(config,
                              {step("prune-modules", {{"prune.paths", "encoder.layers.7.ffn"}})});
      },
      "step 1 (prune-modules, r.yaml:2): the model has no sublayer encoder.layers.7.ffn");
  // A split of an encoder in a translation model.
  expect_user_error(
      [&] { pipeline::check_chain(config, {step("decompose", {{"decompose.k", 1}})}); },
      "step 1 (decompose, r.yaml:2): decompose splits an encoder with a span or classification "
      "head; the model is not one");
  auto encoder = config;
  encoder.model_type = "encoder", encoder.decoder_layers = 0, encoder.encoder_head = "span";
  expect_user_error(
      [&] { pipeline::check_chain(encoder, {step("decompose", {{"decompose.k", 3}})}); },
      "step 1 (decompose, r.yaml:2): decompose.k must be in [0, 2], got 3");
  expect_user_error(
      [&] { pipeline::check_chain(encoder, {step("linearize", json::object())}); },
      "step 1 (linearize, r.yaml:2): linearize converts a decoder's attention to run as an RNN; "
      "the model is an encoder");
}

// A fake model directory: a config and a record, what run_chain reads and writes.
fs::path fake_model(const fs::path& dir, const std::string& tag) {
  fs::create_directories(dir);
  testing::write_file(dir / "config.json", "{}");
  testing::write_file(dir / "weights.txt", tag);
  return dir;
}

TEST(CompressionChain, ResumesAtTheStepItStoppedInAndRecordsTheChain) {
  testing::TempDir dir;
  const auto original = fake_model(dir / "original", "original");
  std::vector<PlannedStep> steps = {step("importance", json::object()),
                                    step("prune-modules", {{"prune.k", 1}}),
                                    step("sparsify", {{"sparsify.sparsity", 0.5}})};
  steps[1].step.options = {{"prune", {{"k", 1}}}};
  steps[2].step.options = {{"sparsify", {{"sparsity", 0.5}}}};
  std::vector<std::string> calls;
  bool interrupt = true;
  auto runner = [&](const PlannedStep& p, const pipeline::StepContext& c) -> fs::path {
    calls.push_back(fmt::format("{}{}{}", p.step.command, c.resume ? " resumed" : "",
                                c.importance.empty() ? "" : " with importance"));
    if (p.step.command == "importance") return c.model;
    if (p.step.command == "sparsify" && interrupt) throw core::Interrupted("stopped");
    return fake_model(c.dir / "model", p.step.command);
  };
  const fs::path out = dir / "chain";
  EXPECT_THROW(pipeline::run_chain(original, steps, out, runner, "r.yaml"), core::Interrupted);
  EXPECT_EQ(calls, (std::vector<std::string>{"importance", "prune-modules with importance",
                                             "sparsify with importance"}));
  calls.clear();
  interrupt = false;
  const auto outcome = pipeline::run_chain(original, steps, out, runner, "r.yaml");
  EXPECT_EQ(outcome.resumed_steps, 2u);
  EXPECT_EQ(calls, (std::vector<std::string>{"sparsify resumed with importance"}));
  EXPECT_EQ(core::read_file(outcome.final_model / "weights.txt"), "sparsify");
  const auto labels = pipeline::chain_labels(train::read_record(outcome.final_model));
  EXPECT_EQ(labels, (std::vector<std::string>{"importance", "prune-modules (k 1)",
                                              "sparsify (sparsity 0.5)"}));
  // The model of step 2 records the chain up to itself.
  EXPECT_EQ(pipeline::chain_labels(train::read_record(outcome.models[1])).size(), 2u);

  // Another model does not continue the chain in place, nor does a changed recipe.
  const auto other = fake_model(dir / "other", "other");
  expect_user_error(
      [&] { pipeline::run_chain(other, steps, out, runner, "r.yaml"); },
      (out / "chain.json").string() + ": the chain there compresses " + original.string() +
          ", not " + other.string() + "; give another --output");
  steps[2].step.options = {{"sparsify", {{"sparsity", 0.9}}}};
  expect_user_error(
      [&] { pipeline::run_chain(original, steps, out, runner, "r.yaml"); },
      (out / "chain.json").string() +
          ": step 3 (sparsify) differs from the run there (sparsify); give another --output to "
          "run the changed chain");
}

}  // namespace
}  // namespace slimformer
