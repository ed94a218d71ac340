#include "slimformer/pipeline/search.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/data/tokenizer.h"
#include "slimformer/methods/search/search_log.h"
#include "slimformer/methods/search/supernet.h"
#include "slimformer/models/encoder.h"
#include "slimformer/nn/feed_forward.h"
#include "slimformer/pipeline/pretrain_corpus.h"
#include "slimformer/pipeline/surgery.h"
#include "slimformer/tasks/masked_lm_task.h"
#include "slimformer/tasks/multi_task_glue_task.h"

namespace slimformer::pipeline {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

fs::path log_path(const fs::path& out) { return out / "search_log.jsonl"; }

// The teacher's config, refused unless it is an encoder with a masked-LM head.
models::TransformerConfig teacher_config(const SearchRun& run) {
  const auto config = models::TransformerConfig::load((run.teacher / "config.json").string());
  if (!config.is_encoder() || config.encoder_head != "mlm")
    throw core::UserError(fmt::format(
        "{}: the FFN search distils from an encoder with a masked-LM head (this is a {} model{})",
        run.teacher.string(), config.model_type,
        config.is_encoder() ? " with a " + config.encoder_head + " head" : ""));
  return config;
}

// The warm-up's and every candidate's teacher: soft cross-entropy on the masked-LM logits and
// the MSE of each layer's hidden states, 1:1, without the student's own masked-LM loss.
std::shared_ptr<train::Teacher> make_teacher(const SearchRun& run) {
  teacher_config(run);
  auto teacher = train::load_model(run.teacher, run.training.device);
  methods::searched_ffn_paths(*teacher.model, run.teacher.string());
  train::DistillationOptions d;
  d.task_weight = 0.0;
  d.logit_weight = 1.0;
  const int64_t layers = teacher.model->config().encoder_layers;
  for (int64_t i = 0; i < layers; ++i) d.taps.push_back(fmt::format("encoder.layers.{}", i));
  d.tap_weight = 1.0 / double(layers);
  return std::make_shared<train::Teacher>(teacher.model, d);
}

methods::Architecture uniform(const nn::FfnExpression& e, int64_t layers) {
  return methods::Architecture{std::vector<nn::FfnExpression>(layers, e)};
}

methods::SearchSpace space_of(const SearchRun& run, int stage, const methods::Architecture& fixed) {
  const auto config = teacher_config(run);
  methods::SearchSpace space;
  space.layers = config.encoder_layers;
  space.model_width = config.d_model;
  space.stage = stage;
  std::tie(space.min_parameters, space.max_parameters) = ffn_budget(run);
  space.fixed = fixed;
  space.check();
  return space;
}

// Copies a checkpoint directory atomically.
void copy_checkpoint(const fs::path& from, const fs::path& to) {
  core::write_directory_atomically(
      to, [&](const fs::path& tmp) { fs::copy(from, tmp, fs::copy_options::recursive); });
}

// One of the search's trainings: `steps` updates into `dir`, its schedule over those updates,
// continued from dir/last with `resume` when there is one.
TrainingRun budgeted_run(const SearchRun& run, const fs::path& dir, int64_t steps, bool resume) {
  TrainingRun r = run.training;
  r.train.output_dir = dir;
  r.train.max_steps = steps;
  r.train.schedule.total_steps = steps;  // a linear schedule decays over this run, not --max-steps
  r.train.schedule.warmup_steps = std::min(r.train.schedule.warmup_steps, steps / 2);
  r.train.validate_every = std::min(r.train.validate_every, steps);
  r.train.resume = resume && fs::exists(dir / "last");
  r.record = run.record;
  prepare_output_dir(r.train);
  return r;
}

TrainingRun distillation_run(const SearchRun& run, std::shared_ptr<train::Teacher> teacher,
                             const fs::path& dir, int64_t steps, bool resume) {
  TrainingRun r = budgeted_run(run, dir, steps, resume);
  r.teacher = std::move(teacher);
  return r;
}

// The super-network at <dir>/model: built from the teacher (or from `start`, another
// super-network) with every FFN at the largest size of `expressions`, then distilled for
// `steps` updates (with `hooks`, e.g. weight sharing). Built once; resumed when interrupted.
fs::path ensure_supernet(const SearchRun& run, const fs::path& dir, const fs::path& start,
                         const methods::Architecture& expressions, int64_t steps,
                         const std::vector<std::shared_ptr<train::TrainingHook>>& hooks,
                         const std::vector<std::string>& corpus) {
  const fs::path model_dir = dir / "model";
  if (fs::exists(model_dir)) return model_dir;
  const fs::path init = dir / "init";
  if (!fs::exists(init)) {
    auto model = train::load_model(start, run.training.device);
    methods::Architecture largest;
    for (const auto& e : expressions.layers)
      largest.layers.push_back(e.with_size(nn::kMaxStackDepth, 1));
    methods::apply_architecture(*model.model, largest, *model.model);
    json record = run.record;
    record["supernet_of"] = start.string();
    record["architecture"] = largest.to_string();
    save_changed_model(init, model, record);
    spdlog::info("super-network {} ({} parameters)", init.string(), model.model->num_parameters());
  }
  if (steps == 0) {
    copy_checkpoint(init, model_dir);
    return model_dir;
  }
  auto r = distillation_run(run, make_teacher(run), dir / "warmup", steps, /*resume=*/true);
  r.train.hooks = hooks;
  auto model = r.train.resume ? train::load_model(dir / "warmup" / "last", run.training.device)
                              : train::load_model(init, run.training.device);
  spdlog::info("warm-up distillation of the super-network: {} updates", steps);
  train_masked_lm(model, corpus, run.data, r);
  copy_checkpoint(dir / "warmup" / "best", model_dir);
  return model_dir;
}

// Milliseconds of one forward pass at batch 1 x `tokens` tokens (median of 9), without autograd.
double forward_latency_ms(models::ModelTree& tree, int64_t tokens) {
  auto* encoder = dynamic_cast<models::EncoderModelImpl*>(&tree);
  tree.module().eval();
  torch::Tensor input = torch::randint(5, tree.config().vocab_size, {1, tokens});
  c10::InferenceMode guard;
  std::vector<double> ms;
  for (int i = 0; i < 11; ++i) {
    const auto start = std::chrono::steady_clock::now();
    encoder->encode(input);
    if (i >= 2)
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                             start)
                       .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// Resizes each layer of the weight-sharing super-network to a random depth and width after
// every update (seeded by the step, so a resumed run draws the same), and to the largest before
// each validation, so that every sub-network trains and validation sees the whole.
class WeightSharing : public train::TrainingHook {
 public:
  WeightSharing(methods::Architecture expressions, uint64_t seed, int64_t validate_every)
      : expressions_(std::move(expressions)), seed_(seed), validate_every_(validate_every) {}
  std::string name() const override { return "weight_sharing"; }
  void before_training(models::ModelTree& model) override { draw(0, model); }
  void after_update(int64_t step, models::ModelTree& model) override {
    if (validate_every_ > 0 && step % validate_every_ == 0)
      methods::set_active_sizes(model, largest());
    else
      draw(step, model);
  }

 private:
  methods::Architecture largest() const {
    methods::Architecture a;
    for (const auto& e : expressions_.layers) a.layers.push_back(e.with_size(nn::kMaxStackDepth, 1));
    return a;
  }
  void draw(int64_t step, models::ModelTree& model) const {
    std::seed_seq seq{seed_, static_cast<uint64_t>(step)};
    std::mt19937_64 rng(seq);
    std::uniform_int_distribution<int64_t> size(1, 4);
    methods::Architecture a;
    for (const auto& e : expressions_.layers) a.layers.push_back(e.with_size(size(rng), size(rng)));
    methods::set_active_sizes(model, a);
  }
  methods::Architecture expressions_;
  uint64_t seed_;
  int64_t validate_every_;
};

// Every tenth training example of stage 3's GLUE tasks scores the candidates.
constexpr int64_t kGlueHeldOutEvery = 10;

// Stage 3's GLUE super-network at <dir>/model: the masked-LM weight-sharing super-network
// `start` with a classification head sliced among the tasks, fine-tuned on all of them at once
// with weight sharing for `steps` updates. Built once; resumed when interrupted.
fs::path ensure_glue_supernet(const SearchRun& run, const fs::path& dir, const fs::path& start,
                              const methods::Architecture& expressions, int64_t steps,
                              const SearchStageOptions& options, tasks::TaskParts parts) {
  const fs::path model_dir = dir / "model";
  std::vector<data::TextTask> task_list;
  std::vector<std::string> names;
  for (const auto& part : *parts) {
    task_list.push_back(part.task);
    names.push_back(part.task.name);
  }
  // A super-network fine-tuned on other tasks (or in another order) has other head slices.
  for (const auto& existing : {model_dir, dir / "finetune" / "last"}) {
    if (!fs::exists(existing)) continue;
    const auto trained = tasks::recorded_task_names(train::read_record(existing),
                                                    (existing / "slimformer.json").string());
    if (trained != names)
      throw core::UserError(
          fmt::format("{} was fine-tuned on the tasks {}, not {}; give another --output",
                      existing.string(), json(trained).dump(), json(names).dump()));
  }
  if (fs::exists(model_dir)) return model_dir;
  TrainingRun r = budgeted_run(run, dir / "finetune", steps, /*resume=*/true);
  r.record["supernet_of"] = start.string();
  r.train.hooks = {
      std::make_shared<WeightSharing>(expressions, options.sampler.seed, r.train.validate_every)};
  auto model = resume_or_start(r.train, run.training.device, [&] {
    auto ckpt = train::load_encoder(start, run.training.device, "classification",
                                    tasks::total_labels(task_list));
    return train::LoadedModel{ckpt.model.ptr(), ckpt.tokenizer, {}, false, ckpt.record};
  });
  spdlog::info("fine-tuning the weight-sharing super-network on {} GLUE tasks: {} updates",
               parts->size(), steps);
  train_multi_task_glue(model, parts, r);
  // The last checkpoint, as the method's code keeps it: the best is chosen on the examples that
  // then score the candidates.
  copy_checkpoint(r.train.output_dir / "last", model_dir);
  return model_dir;
}

methods::Architecture fixed_architecture(const SearchRun& run, const SearchStageOptions& options) {
  if (options.stage == 1) return {};
  if (!options.fixed.empty()) {
    try {
      return methods::Architecture::parse(options.fixed);
    } catch (const std::invalid_argument& e) {
      throw core::UserError(fmt::format("--fixed: {}", e.what()));
    }
  }
  const json best = best_of_stage(run.out, options.stage - 1);
  if (best.is_null())
    throw core::UserError(fmt::format(
        "stage {} starts from the best of stage {}, and {} has none; run stage {} first or give "
        "--fixed",
        options.stage, options.stage - 1, log_path(run.out).string(), options.stage - 1));
  spdlog::info("stage {} keeps the {} of stage {}'s best: {}", options.stage,
               options.stage == 2 ? "sizes" : "expressions", options.stage - 1,
               best["architecture"].get<std::string>());
  return methods::Architecture::parse(best["architecture"].get<std::string>());
}

}  // namespace

std::pair<int64_t, int64_t> ffn_budget(const SearchRun& run) {
  if (run.max_parameters > 0) return {run.min_parameters, run.max_parameters};
  // EfficientBERT's baseline FFN: inner width H (linear1_1), here in every layer.
  const auto config = teacher_config(run);
  const int64_t baseline =
      config.encoder_layers * nn::expression_parameters(nn::FfnExpression::standard(1, 1),
                                                        config.d_model);
  return {run.min_parameters > 0 ? run.min_parameters : int64_t(0.9 * baseline),
          int64_t(1.05 * baseline)};
}

json best_of_stage(const fs::path& out, int stage) {
  if (!fs::exists(log_path(out))) return nullptr;
  json best = nullptr;
  for (const auto& r : methods::SearchLog(log_path(out)).results(stage))
    if (best.is_null() || r.value("score", 0.0) > best.value("score", 0.0)) best = r;
  return best;
}

SearchOutcome run_search_stage(const SearchRun& run, const SearchStageOptions& options) {
  teacher_config(run);
  fs::create_directories(run.out);
  const auto fixed = fixed_architecture(run, options);
  const auto space = space_of(run, options.stage, fixed);
  const bool glue = options.stage == 3 && !options.glue_tasks.empty();
  constexpr const char *kOnGlue = "on GLUE tasks", *kByAccuracy = "by masked-token accuracy";
  methods::SearchLog log(log_path(run.out));
  // A stage's scores must be comparable: one scoring per stage and log.
  for (const auto& r : log.results(options.stage))
    if (r.contains("metrics") && r["metrics"].is_object() &&
        r["metrics"].contains("average") != glue)
      throw core::UserError(
          fmt::format("{}: stage {} was scored {}; give another --output to score it {}",
                      log_path(run.out).string(), options.stage, glue ? kByAccuracy : kOnGlue,
                      glue ? kOnGlue : kByAccuracy));
  auto sampler = methods::make_sampler(options.sampler);
  const auto corpus = read_pretrain_corpus(run.text);
  const int64_t layers = teacher_config(run).encoder_layers;

  fs::path supernet = ensure_supernet(run, run.out / "supernet", run.teacher,
                                      uniform(nn::FfnExpression::standard(1, 1), layers),
                                      run.warmup_steps, {}, corpus);
  if (options.stage == 3) {
    const int64_t every = std::min(run.training.train.validate_every, options.sharing_steps);
    supernet = ensure_supernet(
        run, run.out / "supernet-stage3", supernet, fixed, options.sharing_steps,
        {std::make_shared<WeightSharing>(fixed, options.sampler.seed, every)}, corpus);
  }
  // Stage 3 with GLUE tasks scores candidates on their held-out examples.
  tasks::TaskParts glue_parts;
  if (glue) {
    auto tokenizer = data::load_checkpoint_tokenizer(supernet);
    GlueData files;
    files.glue_dir = options.glue_dir;
    files.max_length = run.data.max_length;
    glue_parts = read_glue_parts(options.glue_tasks, files, *tokenizer, kGlueHeldOutEvery);
    supernet = ensure_glue_supernet(run, run.out / "supernet-stage3-glue", supernet, fixed,
                                    options.glue_steps, options, glue_parts);
  }
  auto teacher = make_teacher(run);
  spdlog::info("stage {}: {} candidates, {} sampler, FFN budget [{}, {}] parameters",
               options.stage, options.candidates, options.sampler.kind, space.min_parameters,
               space.max_parameters);
  if (options.before_candidates) options.before_candidates();
  while (true) {
    auto claim = log.claim(options.stage, options.candidates,
                           [&](const auto& history, const auto& taken, int64_t index) {
                             auto a = sampler->propose(space, history, taken, index);
                             return std::make_pair(a, sampler->last_region());
                           });
    if (!claim) break;
    const auto start = std::chrono::steady_clock::now();
    const fs::path dir = run.out / "candidates" / fmt::format("s{}-{:03d}", claim->stage, claim->index);
    if (claim->reclaimed) fs::remove_all(dir);
    spdlog::info("stage {} candidate {}{}: {}", claim->stage, claim->index,
                 claim->reclaimed ? " (again: its process is gone)" : "",
                 claim->architecture.to_string());
    auto model = train::load_model(supernet, run.training.device);
    train::Metrics metrics;
    if (options.stage == 3) {
      methods::set_active_sizes(*model.model, claim->architecture);
      if (glue) {
        tasks::GlueTaskOptions scoring;
        scoring.max_tokens = run.training.max_tokens;
        scoring.device = run.training.device;
        metrics = tasks::MultiTaskGlueTask(
                      models::EncoderModel(
                          std::dynamic_pointer_cast<models::EncoderModelImpl>(model.model)),
                      model.tokenizer, {}, glue_parts, scoring)
                      .validate();
      } else {
        auto r = distillation_run(run, teacher, dir, 1, false);
        metrics = masked_lm_task(model, corpus, run.data, r)->validate();
      }
      model = train::load_model(supernet, run.training.device);
      methods::apply_architecture(*model.model, claim->architecture, *model.model);
    } else {
      methods::apply_architecture(*model.model, claim->architecture, *model.model);
      model.init = model.model->copy_state();
      auto r = distillation_run(run, teacher, dir, options.candidate_steps, false);
      metrics = train_masked_lm(model, corpus, run.data, r).best;
      fs::remove_all(dir / "best");
      fs::remove_all(dir / "last");
    }
    const char* score = glue ? "average" : "accuracy";
    json result = {
        {"score", metrics.count(score) ? metrics.at(score) : 0.0},
        {"metrics", metrics},
        {"ffn_parameters", space.parameters(claim->architecture)},
        {"parameters", model.model->num_parameters()},
        {"latency_ms", forward_latency_ms(*model.model, run.data.max_length)},
        {"sampler", options.sampler.kind},
        {"seconds",
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
    log.record(*claim, result);
    result["stage"] = claim->stage;
    result["index"] = claim->index;
    result["architecture"] = claim->architecture.to_string();
    if (options.on_candidate) options.on_candidate(result);
  }
  if (options.after_candidates) options.after_candidates();
  SearchOutcome outcome;
  outcome.results = log.results(options.stage);
  outcome.best = best_of_stage(run.out, options.stage);
  return outcome;
}

fs::path train_student(const SearchRun& run, const std::string& architecture,
                       const std::string& name, int64_t steps) {
  std::string text = architecture;
  if (text == "best") {
    json best = nullptr;
    for (int stage = 3; stage >= 1 && best.is_null(); --stage) best = best_of_stage(run.out, stage);
    if (best.is_null())
      throw core::UserError(fmt::format("--student best: {} has no evaluated candidate",
                                        log_path(run.out).string()));
    text = best["architecture"].get<std::string>();
  }
  methods::Architecture a;
  try {
    a = methods::Architecture::parse(text);
  } catch (const std::invalid_argument& e) {
    throw core::UserError(fmt::format("--student: {}", e.what()));
  }
  const int64_t layers = teacher_config(run).encoder_layers;
  const auto corpus = read_pretrain_corpus(run.text);
  const fs::path supernet =
      ensure_supernet(run, run.out / "supernet", run.teacher,
                      uniform(nn::FfnExpression::standard(1, 1), layers),
                      run.warmup_steps, {}, corpus);
  const fs::path dir = run.out / "students" / name;
  auto r = distillation_run(run, make_teacher(run), dir, steps, /*resume=*/true);
  r.record["architecture"] = a.to_string();
  r.record["distilled_from"] = run.teacher.string();
  train::LoadedModel model;
  if (r.train.resume) {
    model = train::load_model(dir / "last", run.training.device);
  } else {
    model = train::load_model(supernet, run.training.device);
    const auto space = space_of(run, 1, {});
    if (auto rule = space.violation(a); !rule.empty())
      spdlog::warn("the student breaks the search space's rule: {}", rule);
    methods::apply_architecture(*model.model, a, *model.model);
    model.init = model.model->copy_state();
  }
  spdlog::info("student {}: {} ({} parameters), {} distillation updates", name, a.to_string(),
               model.model->num_parameters(), steps);
  train_masked_lm(model, corpus, run.data, r);
  return dir / "best";
}

}  // namespace slimformer::pipeline
