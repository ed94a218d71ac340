#include <gtest/gtest.h>

#include "slimformer/core/safetensors.h"
#include "slimformer/data/text_file.h"
#include "slimformer/tasks/translation_task.h"
#include "slimformer/train/checkpoint.h"
#include "slimformer/train/loss.h"
#include "slimformer/train/schedule.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

TEST(Loss, LabelSmoothingMatchesItsFormulaAndIgnoresPadding) {
  auto logits = torch::randn({2, 3, 5});
  auto target = torch::tensor({1, 2, 0, 4, 0, 0}, torch::kInt64).view({2, 3});
  auto out = train::label_smoothed_cross_entropy(logits, target, 0.1, 0);
  auto lp = torch::log_softmax(logits, -1);
  double expected = 0, nll = 0;
  for (auto [b, t] : {std::pair{0, 0}, {0, 1}, {1, 0}}) {
    int64_t y = target[b][t].item<int64_t>();
    nll += -lp[b][t][y].item<double>();
    expected += 0.9 * -lp[b][t][y].item<double>() + 0.1 * -lp[b][t].mean().item<double>();
  }
  EXPECT_EQ(out.tokens, 3);
  EXPECT_NEAR(out.loss_sum.item<double>(), expected, 1e-5);
  EXPECT_NEAR(out.nll_sum.item<double>(), nll, 1e-5);
}

TEST(Schedule, WarmupThenInverseSqrtOrLinear) {
  train::ScheduleOptions o{"inverse_sqrt", 1e-3, 100, 1000};
  EXPECT_DOUBLE_EQ(train::learning_rate(o, 50), 5e-4);
  EXPECT_DOUBLE_EQ(train::learning_rate(o, 100), 1e-3);
  EXPECT_DOUBLE_EQ(train::learning_rate(o, 400), 5e-4);
  o.kind = "linear";
  EXPECT_DOUBLE_EQ(train::learning_rate(o, 550), 5e-4);
  EXPECT_DOUBLE_EQ(train::learning_rate(o, 1000), 0.0);
}

// A small translation task on the first bundled Multi30k lines.
std::unique_ptr<tasks::TranslationTask> small_task() {
  const auto& vocab = testing::small_vocab();
  data::ParallelText text{data::read_lines(testing::data_file("multi30k/val.en.gz")),
                          data::read_lines(testing::data_file("multi30k/val.de.gz"))};
  text.source.resize(64), text.target.resize(64);
  data::ParallelText valid{{text.source.begin(), text.source.begin() + 8},
                           {text.target.begin(), text.target.begin() + 8}};
  auto config = testing::tiny_config(vocab.size());
  config.dropout = 0.1;  // so that resuming must restore the RNG too
  models::Seq2SeqTransformer model(config);
  auto init = model->state();
  for (auto& [k, v] : init) v = v.clone();
  tasks::TranslationTaskOptions options;
  options.max_tokens = 300;
  options.bleu_samples = 4;
  return std::make_unique<tasks::TranslationTask>(
      model, vocab, init, data::tokenize_pairs(text, vocab, 60),
      data::tokenize_pairs(valid, vocab, 60), valid, options);
}

train::TrainOptions small_options(const std::filesystem::path& out) {
  train::TrainOptions o;
  o.schedule.peak_lr = 1e-3;
  o.schedule.warmup_steps = 4;
  o.max_steps = 12;
  o.validate_every = 4;
  o.log_every = 2;
  o.clip_norm = 1.0;
  o.output_dir = out;
  return o;
}

TEST(Trainer, ResumedRunEqualsUninterruptedRun) {
  testing::TempDir dir;
  // Uninterrupted: 12 steps.
  torch::manual_seed(1);
  auto straight = small_task();
  auto result = train::run_training(*straight, small_options(dir / "straight"), {});
  EXPECT_EQ(result.steps, 12);
  // Interrupted after 4 steps (the checkpoint then), resumed to 12.
  torch::manual_seed(1);
  auto first = small_task();
  std::atomic<bool> stop{false};
  auto options = small_options(dir / "resumed");
  options.stop_requested = &stop;
  train::TrainCallbacks callbacks;
  callbacks.on_validation = [&](int64_t step, const train::Metrics&) { stop = step == 4; };
  EXPECT_THROW(train::run_training(*first, options, {}, callbacks), core::Interrupted);
  auto second = small_task();
  options.stop_requested = nullptr;
  options.resume = true;
  train::run_training(*second, options, {});
  auto a = core::load_safetensors(dir / "straight" / "last" / "model.safetensors");
  auto b = core::load_safetensors(dir / "resumed" / "last" / "model.safetensors");
  for (const auto& [k, v] : a) EXPECT_TRUE(torch::equal(v, b.at(k))) << k;
}

TEST(Trainer, CheckpointIsACompleteDirectory) {
  testing::TempDir dir;
  auto task = small_task();
  auto options = small_options(dir / "run");
  options.max_steps = 4;
  train::run_training(*task, options, {{"command", "test"}});
  for (const char* sub : {"last", "best"})
    for (const char* file : {"config.json", "model.safetensors", "init.safetensors",
                             "tokenizer.model", "slimformer.json"})
      EXPECT_TRUE(std::filesystem::exists(dir / "run" / sub / file)) << sub << "/" << file;
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "last" / "training_state" / "optimizer.pt"));
  auto ckpt = train::load_seq2seq(dir / "run" / "last", torch::kCPU);
  EXPECT_EQ(ckpt.record["step"], 4);
  EXPECT_FALSE(ckpt.init.empty());
  // The recorded init equals a fresh model from the same config: training started from it.
  models::Seq2SeqTransformer fresh(ckpt.model->config());
  for (const auto& [k, v] : fresh->state()) EXPECT_TRUE(torch::equal(v, ckpt.init.at(k))) << k;
}

TEST(Trainer, ResumeWithoutCheckpointIsRefused) {
  testing::TempDir dir;
  auto task = small_task();
  auto options = small_options(dir / "empty");
  options.resume = true;
  testing::expect_user_error(
      [&] { train::run_training(*task, options, {}); },
      "--resume: " + (dir / "empty").string() + " has no resumable checkpoint (no " +
          (dir / "empty" / "last" / "training_state" / "state.json").string() + ")");
}

}  // namespace
}  // namespace slimformer
