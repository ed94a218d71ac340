// What the trainer offers methods: parameter groups (frozen, scaled), hooks after every update
// with their state in checkpoints, and distillation from a teacher; resume stays exact with all
// of them. Non-finite updates are skipped and counted, or stop the run resumably.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <limits>
#include <set>

#include "slimformer/core/files.h"
#include "slimformer/core/safetensors.h"
#include "slimformer/data/glue.h"
#include "slimformer/methods/magnitude/gradual_pruning.h"
#include "slimformer/tasks/glue_task.h"
#include "slimformer/tasks/multi_task_glue_task.h"
#include "slimformer/train/checkpoint.h"
#include "slimformer/train/distillation.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

models::TransformerConfig tiny_classifier(int64_t vocab_size) {
  auto c = testing::tiny_config(vocab_size);
  c.model_type = "encoder";
  c.decoder_layers = 0;
  c.encoder_head = "classification";
  c.position_embedding = "learned";
  c.dropout = 0.1;  // so that resuming must restore the RNG too
  return c;
}

// Fine-tuning a tiny classifier on the first WNLI examples, optionally from a teacher.
std::unique_ptr<tasks::GlueFinetuneTask> small_glue_task(
    std::shared_ptr<train::Teacher> teacher = nullptr, int64_t init_seed = 1) {
  auto tokenizer = std::make_shared<data::Vocab>(testing::small_vocab());
  const auto& task = data::glue_task("WNLI");
  auto examples = data::read_text_task(testing::data_file("glue/WNLI/train.tsv.gz"), task).examples;
  examples.resize(48);
  auto config = tiny_classifier(tokenizer->size());
  config.init_seed = init_seed;
  models::EncoderModel model(config);
  tasks::GlueTaskOptions options;
  options.max_tokens = 600;
  options.teacher = std::move(teacher);
  auto encoded = eval::encode_glue(examples, *tokenizer, 64);
  return std::make_unique<tasks::GlueFinetuneTask>(model, tokenizer, model->state(), task, encoded,
                                                   encoded, options);
}

train::TrainOptions small_options(const std::filesystem::path& out) {
  train::TrainOptions o;
  o.optimizer = "adamw";
  o.schedule.kind = "constant";
  o.schedule.peak_lr = 1e-3;
  o.schedule.warmup_steps = 0;
  o.max_steps = 8;
  o.validate_every = 4;
  o.output_dir = out;
  return o;
}

core::TensorMap copied_state(models::ModelTree& model) {
  core::TensorMap out;
  for (const auto& [k, v] : model.state()) out[k] = v.detach().clone();
  return out;
}

// Runs `make_options(out)` for 8 steps straight and, in a second directory, stopped after 4 and
// resumed with fresh objects; expects identical final weights.
template <typename MakeTask, typename MakeOptions>
void expect_exact_resume(MakeTask make_task, MakeOptions make_options) {
  testing::TempDir dir;
  torch::manual_seed(1);
  auto straight = make_task();
  train::run_training(*straight, make_options(dir / "straight"), {});
  torch::manual_seed(1);
  auto first = make_task();
  std::atomic<bool> stop{false};
  auto options = make_options(dir / "resumed");
  options.stop_requested = &stop;
  train::TrainCallbacks callbacks;
  callbacks.on_validation = [&](int64_t step, const train::Metrics&) { stop = step == 4; };
  EXPECT_THROW(train::run_training(*first, options, {}, callbacks), core::Interrupted);
  auto second = make_task();
  options = make_options(dir / "resumed");
  options.resume = true;
  train::run_training(*second, options, {});
  auto a = train::read_weights(dir / "straight" / "last" / "model.safetensors");
  auto b = train::read_weights(dir / "resumed" / "last" / "model.safetensors");
  for (const auto& [k, v] : a) EXPECT_TRUE(torch::equal(v, b.at(k))) << k;
}

TEST(ParameterGroups, FrozenParametersStayAndScaledOnesMoveLess) {
  testing::TempDir dir;
  auto task = small_glue_task();
  auto before = copied_state(task->model());
  auto options = small_options(dir / "run");
  options.parameter_groups = {{{"encoder.layers.0.**"}, 1.0, /*frozen=*/true},
                              {{"encoder.layers.1.**"}, 0.0, /*frozen=*/false}};
  train::run_training(*task, options, {});
  auto after = task->model().state();
  for (const auto& [k, v] : after) {
    if (k.starts_with("encoder.layers.0.") || k.starts_with("encoder.layers.1."))
      EXPECT_TRUE(torch::equal(v, before.at(k))) << k;  // frozen, or a zero learning rate
    EXPECT_TRUE(v.requires_grad()) << k;                // freezing ends with the run
  }
  EXPECT_FALSE(torch::equal(after.at("classifier.weight"), before.at("classifier.weight")));
}

TEST(ParameterGroups, TrainOnlyFreezesTheRest) {
  testing::TempDir dir;
  auto task = small_glue_task();
  auto before = copied_state(task->model());
  auto options = small_options(dir / "run");
  options.parameter_groups = {{{"classifier.*"}, 1.0, false}};
  options.freeze_unmatched = true;
  train::run_training(*task, options, {});
  for (const auto& [k, v] : task->model().state())
    EXPECT_EQ(torch::equal(v, before.at(k)), !k.starts_with("classifier.")) << k;
  options.parameter_groups = {{{"nothing.*"}, 1.0, false}};
  options.output_dir = dir / "none";
  testing::expect_user_error([&] { train::run_training(*task, options, {}); },
                             "training: every parameter is frozen; nothing would train");
}

// A method's hook: keeps the smaller half (by magnitude at the first update) of a matrix at zero
// through every update, and counts the updates; the mask and the count are its state.
class HalfMaskHook : public train::TrainingHook {
 public:
  std::string name() const override { return "half_mask"; }
  void after_update(int64_t step, models::ModelTree& model) override {
    torch::NoGradGuard no_grad;
    auto weight = model.state().at("encoder.layers.0.ffn.block.fc1.weight");
    if (!mask_.defined()) mask_ = weight.abs() >= weight.abs().flatten().median();
    weight.mul_(mask_);
    updates_ += 1, last_step_ = step;
  }
  core::TensorMap state() const override {
    return {{"mask", mask_}, {"updates", torch::tensor({updates_}, torch::kInt64)}};
  }
  void load_state(const core::TensorMap& state) override {
    mask_ = state.at("mask");
    updates_ = state.at("updates").item<int64_t>();
  }
  torch::Tensor mask_;
  int64_t updates_ = 0, last_step_ = 0;
};

TEST(TrainingHooks, RunAfterEveryUpdateAndResumeExactly) {
  testing::TempDir dir;
  auto task = small_glue_task();
  auto hook = std::make_shared<HalfMaskHook>();
  auto options = small_options(dir / "run");
  options.hooks = {hook};
  train::run_training(*task, options, {});
  EXPECT_EQ(hook->updates_, 8);
  EXPECT_EQ(hook->last_step_, 8);
  auto weight = task->model().state().at("encoder.layers.0.ffn.block.fc1.weight");
  EXPECT_EQ(weight.eq(0).sum().item<int64_t>(), hook->mask_.logical_not().sum().item<int64_t>());
  EXPECT_TRUE(std::filesystem::exists(dir / "run/last/training_state/hooks.safetensors"));

  std::shared_ptr<HalfMaskHook> resumed_hook;
  expect_exact_resume([] { return small_glue_task(); },
                      [&](const std::filesystem::path& out) {
                        auto o = small_options(out);
                        resumed_hook = std::make_shared<HalfMaskHook>();
                        o.hooks = {resumed_hook};
                        return o;
                      });
  EXPECT_EQ(resumed_hook->updates_, 8);  // 4 restored from the checkpoint, 4 after resuming
}

// Gradual magnitude pruning as a hook: the cubic schedule's sparsity is reached, pruned weights
// stay exactly zero after every update, and masks resume bit-exactly.
class CheckingPruning : public methods::GradualPruning {
 public:
  using GradualPruning::GradualPruning;
  void after_update(int64_t step, models::ModelTree& model) override {
    GradualPruning::after_update(step, model);
    auto params = model.state();
    for (const auto& [name, mask] : masks())
      nonzero_pruned +=
          params.at(name).masked_select(mask.logical_not()).ne(0).sum().item<int64_t>();
  }
  int64_t nonzero_pruned = 0;
};

TEST(GradualPruning, ReachesItsTargetKeepsPrunedWeightsZeroAndResumesExactly) {
  methods::PruningSchedule schedule;
  schedule.target = 0.6;
  schedule.begin = 0;
  schedule.end = 6;
  schedule.every = 2;
  EXPECT_DOUBLE_EQ(schedule.sparsity_at(0), 0.0);
  EXPECT_DOUBLE_EQ(schedule.sparsity_at(3), 0.6 - 0.6 * 0.125);
  EXPECT_DOUBLE_EQ(schedule.sparsity_at(9), 0.6);
  testing::TempDir dir;
  auto task = small_glue_task();
  auto hook = std::make_shared<CheckingPruning>(schedule, methods::MatrixChoice{});
  auto options = small_options(dir / "run");
  options.hooks = {hook};
  train::run_training(*task, options, {});
  EXPECT_EQ(hook->nonzero_pruned, 0);
  auto names = methods::prunable_matrices(task->model(), true);
  auto table = methods::sparsity_table(task->model(), names);
  for (const auto& row : table) EXPECT_NEAR(row.sparsity(), 0.6, 0.01) << row.name;
  // The saved best/last models keep the zeros, stored compressed.
  auto last = train::load_model(dir / "run/last", torch::kCPU);
  EXPECT_NEAR(methods::overall_sparsity(methods::sparsity_table(*last.model, names)), 0.6, 0.01);
  expect_exact_resume(
      [] { return small_glue_task(); },
      [&](const std::filesystem::path& out) {
        auto o = small_options(out);
        o.hooks = {std::make_shared<methods::GradualPruning>(schedule, methods::MatrixChoice{})};
        return o;
      });
}

TEST(GradualPruning, RefusesAScheduleThatEndsBeforeItBegins) {
  methods::PruningSchedule schedule;
  schedule.begin = 10;
  schedule.end = 5;
  testing::expect_user_error([&] { schedule.check("--prune"); },
                             "--prune-end 5 must come after --prune-begin 10");
  schedule.end = 20;
  schedule.target = 1.0;
  testing::expect_user_error([&] { schedule.check("--prune"); },
                             "--prune must be in [0, 1), got 1");
}

TEST(Distillation, SoftCrossEntropyAndTapLossFollowTheirFormulas) {
  torch::manual_seed(2);
  auto student = torch::randn({3, 5}, torch::requires_grad()), teacher = torch::randn({3, 5});
  const double T = 2.0;
  auto expected =
      -(torch::softmax(teacher / T, -1) * torch::log_softmax(student / T, -1)).sum(-1).mean() * T *
      T;
  EXPECT_NEAR(train::soft_cross_entropy(student, teacher, T).item<double>(),
              expected.item<double>(), 1e-6);
  // The gradient vanishes where the student matches the teacher.
  auto same = teacher.clone().requires_grad_();
  train::soft_cross_entropy(same, teacher, T).backward();
  EXPECT_LT(same.grad().abs().max().item<double>(), 1e-6);
  // Rows left out by the mask do not count.
  auto rows = torch::tensor({true, false, true});
  EXPECT_NEAR(
      train::soft_cross_entropy(student, teacher, T, rows).item<double>(),
      train::soft_cross_entropy(student.index({rows}), teacher.index({rows}), T).item<double>(),
      1e-6);
  // Hidden states: padding positions do not count.
  auto a = torch::randn({2, 4, 3}), b = torch::randn({2, 4, 3});
  auto positions = torch::tensor({{true, true, false, false}, {true, true, true, true}});
  auto diff = (a - b).pow(2);
  EXPECT_NEAR(train::tap_mse(a, b, positions).item<double>(),
              (diff[0].narrow(0, 0, 2).sum() + diff[1].sum()).item<double>() / (6 * 3), 1e-6);
  testing::expect_user_error(
      [&] {
        train::tap_mse(a, torch::zeros({2, 4, 5}));
      },
      "distillation: a student tap of shape [2, 4, 3] cannot be compared with a teacher tap of "
      "shape [2, 4, 5]");
}

TEST(Distillation, ATeacherSteersTheStudentAndResumeStaysExact) {
  testing::TempDir dir;
  // The teacher: the same architecture from another seed, so its outputs differ.
  auto teacher_model = small_glue_task(nullptr, 7)->model().state();
  auto make_teacher = [&] {
    models::EncoderModel t(tiny_classifier(testing::small_vocab().size()));
    t->load_state(teacher_model, "teacher");
    train::DistillationOptions d;
    d.temperature = 2.0;
    d.task_weight = 0.0;  // the teacher alone
    d.tap_weight = 1.0;
    d.taps = {"encoder.layers.1"};
    return std::make_shared<train::Teacher>(t.ptr(), d);
  };
  auto teacher = make_teacher();
  auto task = small_glue_task(teacher);
  // Before training, the student's and the teacher's last hidden states differ; distillation
  // alone brings them closer.
  auto gap = [&] {
    torch::NoGradGuard no_grad;
    auto tokens = torch::randint(4, 400, {2, 9}, torch::kInt64);
    auto& student = dynamic_cast<models::EncoderModelImpl&>(task->model());
    auto& t = teacher->model_as<models::EncoderModelImpl>();
    student.eval();
    return (student.encode(tokens) - t.encode(tokens)).pow(2).mean().item<double>();
  };
  const double before = gap();
  auto options = small_options(dir / "run");
  options.max_steps = 30;
  options.validate_every = 30;
  train::run_training(*task, options, {});
  EXPECT_LT(gap(), before);
  expect_exact_resume([&] { return small_glue_task(make_teacher()); }, small_options);
  testing::expect_user_error(
      [&] {
        train::DistillationOptions d;
        d.taps = {"=encoder.layers.1"};
        train::Teacher(std::make_shared<models::EncoderModelImpl>(tiny_classifier(400)), d);
      },
      "distillation tap \"=encoder.layers.1\" must be a name or student_name=teacher_name");
}

// A task whose loss is NaN at the chosen batches (epoch, index), as a broken batch (or an
// overflow) gives.
class PoisonedTask : public train::TrainingTask {
 public:
  using Choice = std::function<bool(int64_t epoch, int64_t index)>;
  PoisonedTask(std::unique_ptr<train::TrainingTask> inner, Choice poisoned)
      : inner_(std::move(inner)), poisoned_(std::move(poisoned)) {}
  // The batches `indices` of epoch 0.
  PoisonedTask(std::unique_ptr<train::TrainingTask> inner, std::set<int64_t> indices)
      : PoisonedTask(std::move(inner), [indices](int64_t epoch, int64_t index) {
          return epoch == 0 && indices.count(index) > 0;
        }) {}
  models::ModelTree& model() override { return inner_->model(); }
  int64_t num_batches(int64_t epoch) override { return inner_->num_batches(epoch); }
  train::LossValue batch_loss(int64_t epoch, int64_t index) override {
    auto value = inner_->batch_loss(epoch, index);
    if (poisoned_(epoch, index)) {
      const double nan = std::numeric_limits<double>::quiet_NaN();
      value.loss_sum = value.loss_sum * nan;
      value.report_sum = nan;
    }
    return value;
  }
  train::Metrics validate() override { return inner_->validate(); }
  std::string primary_metric() const override { return inner_->primary_metric(); }
  bool higher_is_better() const override { return inner_->higher_is_better(); }
  void write_model(const std::filesystem::path& dir, const nlohmann::json& record) override {
    inner_->write_model(dir, record);
  }

 private:
  std::unique_ptr<train::TrainingTask> inner_;
  Choice poisoned_;
};

bool all_finite(models::ModelTree& model) {
  for (const auto& [k, v] : model.state())
    if (v.is_floating_point() && !torch::isfinite(v).all().item<bool>()) return false;
  return true;
}

TEST(NonFiniteUpdates, AreSkippedCountedAndLogged) {
  testing::TempDir dir;
  PoisonedTask task(small_glue_task(), std::set<int64_t>{1, 3});
  ASSERT_GT(task.num_batches(0), 3);
  const auto result = train::run_training(task, small_options(dir / "run"), {});
  EXPECT_EQ(result.steps, 8);
  EXPECT_EQ(result.skipped_updates, 2);
  EXPECT_TRUE(all_finite(task.model()));
  std::ifstream log(dir / "run" / "train_log.jsonl");
  int64_t events = 0;
  for (std::string line; std::getline(log, line);)
    events += nlohmann::json::parse(line).value("event", "") == "non_finite";
  EXPECT_EQ(events, 2);
}

TEST(NonFiniteUpdates, StopTheRunWithAResumableCheckpointBeforeThem) {
  testing::TempDir dir;
  auto options = small_options(dir / "run");
  options.on_non_finite = "stop";
  PoisonedTask task(small_glue_task(), std::set<int64_t>{2});
  EXPECT_THROW(train::run_training(task, options, {}), train::NonFiniteUpdate);
  // The last checkpoint holds the two good updates, and resuming continues after the bad batch.
  const auto state = nlohmann::json::parse(
      core::read_file(dir / "run" / "last" / train::kTrainingStateDir / "state.json"));
  EXPECT_EQ(state.at("step"), 2);
  EXPECT_EQ(state.at("skipped_updates"), 1);
  options.resume = true;
  PoisonedTask resumed(small_glue_task(), std::set<int64_t>{2});
  const auto result = train::run_training(resumed, options, {});
  EXPECT_EQ(result.steps, 8);
  EXPECT_EQ(result.skipped_updates, 1);
  EXPECT_TRUE(all_finite(resumed.model()));
}

TEST(NonFiniteUpdates, EveryUpdateNonFiniteStopsInsteadOfSkippingForever) {
  testing::TempDir dir;
  PoisonedTask task(small_glue_task(), [](int64_t, int64_t) { return true; });
  auto options = small_options(dir / "run");
  options.max_epochs = 0;
  try {
    train::run_training(task, options, {});
    FAIL() << "expected NonFiniteUpdate";
  } catch (const train::NonFiniteUpdate& e) {
    EXPECT_NE(std::string(e.what()).find("20 updates in a row"), std::string::npos) << e.what();
  }
  options.on_non_finite = "sometimes";
  options.output_dir = dir / "other";
  testing::expect_user_error([&] { train::run_training(task, options, {}); },
                             "--on-non-finite must be skip or stop, got sometimes");
}

// WNLI (two classes) and STS-B (a score) sharing one tiny encoder: outputs 0-1 and 2.
std::unique_ptr<tasks::MultiTaskGlueTask> small_multi_task(int64_t num_labels = 3) {
  auto tokenizer = std::make_shared<data::Vocab>(testing::small_vocab());
  std::vector<tasks::TaskPart> parts;
  for (const char* name : {"WNLI", "STS-B"}) {
    const auto& task = data::glue_task(name);
    auto examples = data::read_text_task(
                        testing::data_file(std::string("glue/") + name + "/train.tsv.gz"), task)
                        .examples;
    examples.resize(32);
    auto encoded = eval::encode_glue(examples, *tokenizer, 64);
    parts.push_back({task, encoded, encoded});
  }
  auto config = tiny_classifier(tokenizer->size());
  config.num_labels = num_labels;
  models::EncoderModel model(config);
  tasks::GlueTaskOptions options;
  options.max_tokens = 400;
  return std::make_unique<tasks::MultiTaskGlueTask>(
      model, tokenizer, model->state(),
      std::make_shared<const std::vector<tasks::TaskPart>>(std::move(parts)), options);
}

TEST(MultiTaskGlue, AnEpochHoldsEveryBatchOfEveryTaskOnceInAShuffledOrder) {
  auto task = small_multi_task();
  for (int64_t epoch : {0, 1}) {
    std::map<size_t, std::multiset<int64_t>> seen;
    for (const auto& batch : task->batches(epoch))
      seen[batch.part].insert(batch.indices.begin(), batch.indices.end());
    ASSERT_EQ(seen.size(), 2u);
    for (const auto& [part, indices] : seen) {
      EXPECT_EQ(indices.size(), 32u) << "part " << part;
      EXPECT_EQ(std::set<int64_t>(indices.begin(), indices.end()).size(), 32u);
    }
  }
  std::vector<size_t> order0, order1;
  for (const auto& b : task->batches(0)) order0.push_back(b.part);
  for (const auto& b : task->batches(1)) order1.push_back(b.part);
  std::vector<size_t> again;
  auto same_seed = small_multi_task();
  for (const auto& b : same_seed->batches(0)) again.push_back(b.part);
  EXPECT_EQ(order0, again) << "the same seed gives the same order";
  const auto first0 = task->batches(0).front().indices;  // batches() reuses its storage
  EXPECT_NE(first0, task->batches(1).front().indices) << "each epoch has its own order";
}

TEST(MultiTaskGlue, ABatchTrainsOnlyItsTasksOutputsAndValidationAveragesTheTasks) {
  auto task = small_multi_task();
  const auto& batches = task->batches(0);
  for (size_t part : {0u, 1u}) {
    const auto it =
        std::find_if(batches.begin(), batches.end(), [&](const auto& b) { return b.part == part; });
    ASSERT_NE(it, batches.end());
    task->model().module().zero_grad();
    task->batch_loss(0, it - batches.begin()).loss_sum.backward();
    torch::Tensor grad = task->model().state().at("classifier.weight").grad();
    ASSERT_TRUE(grad.defined());
    const auto rows = grad.abs().sum(1);
    // WNLI owns outputs 0 and 1, STS-B output 2.
    for (int64_t row = 0; row < 3; ++row)
      EXPECT_EQ(rows[row].item<double>() > 0, (row == 2) == (part == 1))
          << "part " << part << ", output " << row;
  }
  const auto metrics = task->validate();
  ASSERT_TRUE(metrics.count("WNLI.accuracy") && metrics.count("STS-B.pearson"));
  EXPECT_NEAR(metrics.at("average"),
              (metrics.at("WNLI.accuracy") + metrics.at("STS-B.pearson")) / 2, 1e-12);
  EXPECT_EQ(task->primary_metric(), "average");
}

TEST(MultiTaskGlue, ACheckpointRecordsItsTasksInHeadOrder) {
  testing::TempDir dir;
  small_multi_task()->write_model(dir.path(), {{"command", "finetune"}});
  const auto record = train::read_record(dir.path());
  EXPECT_EQ(tasks::recorded_task_names(record, "slimformer.json"),
            (std::vector<std::string>{"WNLI", "STS-B"}));
  EXPECT_TRUE(tasks::recorded_task_names({{"command", "finetune"}}, "x").empty());
  testing::expect_user_error(
      [] {
        tasks::recorded_task_names({{"tasks", 3}}, "run/slimformer.json");
      },
      "run/slimformer.json: tasks holds 3, not a list");
  testing::expect_user_error(
      [] {
        tasks::recorded_task_names({{"tasks", {{{"task", {{"name", 7}}}}}}}, "r.json");
      },
      "r.json tasks[].task: name holds 7, of the wrong type ([json.exception.type_error.302] "
      "type must be string, but is number)");
}

TEST(MultiTaskGlue, RefusesAHeadOfTheWrongSize) {
  testing::expect_user_error([] { small_multi_task(2); },
                             "the model has 2 outputs; the 2 tasks need 3 together");
}

}  // namespace
}  // namespace slimformer
