#include "slimformer/train/trainer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <fstream>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/core/glob.h"
#include "slimformer/core/safetensors.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct LoopState {
  int64_t step = 0, epoch = 0, batch_index = 0, bad_validations = 0, skipped_updates = 0;
  int64_t world_size = 1;  // the workers the run's updates are dealt out among
  double elapsed_seconds = 0, tokens_seen = 0;
  bool has_best = false;
  Metrics best;

  json to_json() const {
    return {{"step", step},
            {"epoch", epoch},
            {"batch_index", batch_index},
            {"bad_validations", bad_validations},
            {"elapsed_seconds", elapsed_seconds},
            {"tokens_seen", tokens_seen},
            {"skipped_updates", skipped_updates},
            {"world_size", world_size},
            {"has_best", has_best},
            {"best", best}};
  }
  static LoopState from_json(const json& j) {
    LoopState s;
    s.step = j.at("step"), s.epoch = j.at("epoch"), s.batch_index = j.at("batch_index");
    s.bad_validations = j.at("bad_validations"), s.elapsed_seconds = j.at("elapsed_seconds");
    s.tokens_seen = j.at("tokens_seen"), s.has_best = j.at("has_best");
    s.skipped_updates = j.value("skipped_updates", int64_t{0});
    s.world_size = j.value("world_size", int64_t{1});
    s.best = j.at("best").get<Metrics>();
    return s;
  }
};

// The optimizer's parameter groups: the trainable parameters by group, each with its share of
// the schedule's learning rate. Frozen parameters stop requiring gradients for the run.
struct GroupPlan {
  std::vector<std::vector<torch::Tensor>> params;
  std::vector<double> lr_scales;
  std::vector<torch::Tensor> trainable, frozen;
};

GroupPlan plan_groups(const TrainOptions& o, torch::nn::Module& module) {
  GroupPlan plan;
  const size_t groups = o.parameter_groups.size();
  // Group 0 holds the unmatched parameters; group i + 1 the i-th ParameterGroup.
  plan.params.resize(groups + 1);
  plan.lr_scales.push_back(1.0);
  for (const auto& g : o.parameter_groups) plan.lr_scales.push_back(g.lr_scale);
  for (const auto& item : module.named_parameters()) {
    size_t group = 0;
    bool frozen = o.freeze_unmatched;
    for (size_t i = 0; i < groups; ++i)
      if (core::glob_match_any(o.parameter_groups[i].patterns, item.key())) {
        group = i + 1, frozen = o.parameter_groups[i].frozen;
        break;
      }
    (frozen ? plan.frozen : plan.trainable).push_back(item.value());
    if (!frozen) plan.params[group].push_back(item.value());
  }
  if (plan.trainable.empty())
    throw core::UserError("training: every parameter is frozen; nothing would train");
  return plan;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainOptions& o,
                                                        const GroupPlan& plan) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (size_t i = 0; i < plan.params.size(); ++i) {
    if (plan.params[i].empty()) continue;
    const double lr = o.schedule.peak_lr * plan.lr_scales[i];
    if (o.optimizer == "adamw")
      groups.emplace_back(plan.params[i], std::make_unique<torch::optim::AdamWOptions>(
                                              torch::optim::AdamWOptions(lr)
                                                  .betas({o.beta1, o.beta2})
                                                  .eps(o.adam_eps)
                                                  .weight_decay(o.weight_decay)));
    else if (o.optimizer == "adam")
      groups.emplace_back(plan.params[i], std::make_unique<torch::optim::AdamOptions>(
                                              torch::optim::AdamOptions(lr)
                                                  .betas({o.beta1, o.beta2})
                                                  .eps(o.adam_eps)
                                                  .weight_decay(o.weight_decay)));
    else
      throw core::UserError(fmt::format("optimizer must be adam or adamw, got {}", o.optimizer));
  }
  if (o.optimizer == "adamw") return std::make_unique<torch::optim::AdamW>(groups);
  return std::make_unique<torch::optim::Adam>(groups);
}

// The schedule's rate times each non-empty group's scale, in the optimizer's group order.
void set_learning_rate(torch::optim::Optimizer& optimizer, const GroupPlan& plan, double lr) {
  size_t next = 0;
  for (size_t i = 0; i < plan.params.size(); ++i) {
    if (plan.params[i].empty()) continue;
    optimizer.param_groups()[next++].options().set_lr(lr * plan.lr_scales[i]);
  }
}

// Frozen parameters require no gradients while the run lasts.
class FreezeGuard {
 public:
  explicit FreezeGuard(std::vector<torch::Tensor> frozen) : frozen_(std::move(frozen)) {
    for (auto& p : frozen_) p.set_requires_grad(false);
  }
  FreezeGuard(const FreezeGuard&) = delete;
  FreezeGuard& operator=(const FreezeGuard&) = delete;
  ~FreezeGuard() {
    for (auto& p : frozen_) p.set_requires_grad(true);
  }

 private:
  std::vector<torch::Tensor> frozen_;
};

core::TensorMap hook_states(const std::vector<std::shared_ptr<TrainingHook>>& hooks) {
  core::TensorMap out;
  for (const auto& hook : hooks)
    for (const auto& [key, value] : hook->state()) out[hook->name() + "/" + key] = value;
  return out;
}

void load_hook_states(const std::vector<std::shared_ptr<TrainingHook>>& hooks,
                      const core::TensorMap& saved) {
  for (const auto& hook : hooks) {
    core::TensorMap own;
    const std::string prefix = hook->name() + "/";
    for (const auto& [key, value] : saved)
      if (key.starts_with(prefix)) own[key.substr(prefix.size())] = value;
    hook->load_state(own);
  }
}

torch::Tensor cpu_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_cpu_rng_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

// Non-finite updates in a row after which a run stops whatever on_non_finite says.
constexpr int64_t kMaxNonFiniteInARow = 20;

// The gradients' total norm, clipped to clip_norm when it is positive (clipping measures it
// anyway). A NaN or inf in any gradient makes it non-finite.
double clipped_gradient_norm(const std::vector<torch::Tensor>& trainable, double clip_norm) {
  if (clip_norm > 0) return torch::nn::utils::clip_grad_norm_(trainable, clip_norm);
  std::vector<torch::Tensor> norms;
  for (const auto& p : trainable)
    if (p.grad().defined()) norms.push_back(p.grad().norm());
  return norms.empty() ? 0.0 : torch::stack(norms).norm().item<double>();
}

// The key of a worker's random-number state in a checkpoint; the primary's is "cpu".
std::string rng_key(int64_t rank) { return rank == 0 ? "cpu" : fmt::format("cpu.rank{}", rank); }

// What one update's batches added up to on this worker, and after sum_over_workers on all.
struct UpdateSums {
  double report = 0;
  int64_t tokens = 0, throughput = 0;
  bool stop_requested = false;
};

// Sums an update's gradients and counts over the workers. A parameter no worker has a gradient
// for keeps none, so the optimizer leaves it alone as it would in one process.
void sum_over_workers(Collective& workers, const std::vector<torch::Tensor>& trainable,
                      UpdateSums& sums) {
  std::vector<double> values{sums.report, double(sums.tokens), double(sums.throughput),
                             sums.stop_requested ? 1.0 : 0.0};
  for (const auto& p : trainable) values.push_back(p.grad().defined() ? 1.0 : 0.0);
  std::vector<torch::Tensor> counts{torch::tensor(values, torch::kFloat64)};
  workers.sum(counts);
  const auto summed = counts[0].accessor<double, 1>();
  sums.report = summed[0];
  sums.tokens = int64_t(summed[1]), sums.throughput = int64_t(summed[2]);
  sums.stop_requested = summed[3] > 0;
  std::vector<torch::Tensor> gradients;
  for (size_t i = 0; i < trainable.size(); ++i) {
    if (summed[4 + i] == 0) continue;
    auto p = trainable[i];
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    gradients.push_back(p.grad());
  }
  workers.sum(gradients);
}

// Every worker must start from the same weights, position and data; a worker whose output
// directory or data differ from the primary's would train something else without a word.
void check_workers_agree(Collective& workers, const LoopState& state, int64_t batches,
                         torch::nn::Module& module) {
  double weights = 0;
  for (const auto& p : module.parameters()) weights += p.to(torch::kFloat64).sum().item<double>();
  const auto own = torch::tensor({double(state.step), double(state.epoch),
                                  double(state.batch_index), double(batches), weights},
                                 torch::kFloat64);
  const auto all = workers.gather(own);
  const char* what[] = {"update", "epoch", "batch", "batches per epoch", "weights' sum"};
  for (size_t r = 1; r < all.size(); ++r)
    for (int64_t i = 0; i < 5; ++i) {
      const double mine = all[0][i].item<double>(), theirs = all[r][i].item<double>();
      if (std::abs(mine - theirs) > 1e-9 * std::max(1.0, std::abs(mine)))
        throw core::UserError(fmt::format(
            "worker {} does not start where the primary does ({}: {} against {}): every worker "
            "must read the same run directory and the same data",
            r, what[i], theirs, mine));
    }
}

bool improved(const Metrics& now, const Metrics& best, const std::string& key, bool higher) {
  if (!now.count(key)) return false;
  if (!best.count(key)) return true;
  return higher ? now.at(key) > best.at(key) : now.at(key) < best.at(key);
}

}  // namespace

TrainResult run_training(TrainingTask& task, const TrainOptions& options, const json& run_record,
                         const TrainCallbacks& callbacks) {
  auto& module = task.model().module();
  const GroupPlan groups = plan_groups(options, module);
  FreezeGuard freeze(groups.frozen);
  auto optimizer = make_optimizer(options, groups);
  if (options.on_non_finite != "skip" && options.on_non_finite != "stop")
    throw core::UserError(
        fmt::format("--on-non-finite must be skip or stop, got {}", options.on_non_finite));
  const DataParallelOptions& parallel = options.data_parallel;
  parallel.check();
  const bool primary = parallel.is_primary();
  const int64_t world = parallel.world_size, rank = parallel.rank;
  const fs::path out = options.output_dir;
  const fs::path last_dir = out / "last", best_dir = out / "best";
  fs::create_directories(out);

  LoopState state;
  state.world_size = world;
  bool own_rng_restored = false;
  if (options.resume) {
    const fs::path ts = last_dir / kTrainingStateDir;
    if (!fs::exists(ts / "state.json"))
      throw core::UserError(fmt::format("--resume: {} has no resumable checkpoint (no {})",
                                        out.string(), (ts / "state.json").string()));
    auto weights = read_weights(last_dir / kModelFile);
    task.model().load_state(weights, (last_dir / kModelFile).string());
    torch::load(*optimizer, (ts / "optimizer.pt").string());
    state = LoopState::from_json(json::parse(core::read_file(ts / "state.json")));
    if (state.world_size != world)
      throw core::UserError(fmt::format(
          "--resume: {} was trained on {} worker(s), each update dealt out among them; resume "
          "it with as many (--nproc {} or --world-size {})",
          out.string(), state.world_size, state.world_size, state.world_size));
    const auto rng = core::load_safetensors(ts / "rng.safetensors");
    if (rng.count(rng_key(rank))) set_cpu_rng_state(rng.at(rng_key(rank))), own_rng_restored = true;
    if (!options.hooks.empty()) {
      if (!fs::exists(ts / "hooks.safetensors"))
        throw core::UserError(
            fmt::format("--resume: {} has no hook state ({}) for this run's hooks", out.string(),
                        (ts / "hooks.safetensors").string()));
      load_hook_states(options.hooks, core::load_safetensors(ts / "hooks.safetensors"));
    }
  }
  for (auto& hook : options.hooks) hook->before_training(task.model());

  std::ofstream log;
  if (primary) log.open(out / "train_log.jsonl", std::ios::app);
  auto write_log = [&](json entry) {
    if (primary) log << entry.dump() << '\n' << std::flush;
  };

  auto record_with = [&](const Metrics& metrics) {
    json r = run_record;
    r["step"] = state.step;
    r["metrics"] = metrics;
    return r;
  };
  std::shared_ptr<Collective> workers = options.workers;
  // Collective when the group has formed: every worker's random-number state goes into the
  // primary's checkpoint. `alone` leaves the others' out (the group is lost).
  auto save_last = [&](const Metrics& metrics, bool alone = false) {
    core::TensorMap rng{{"cpu", cpu_rng_state()}};
    if (workers && !alone) {
      const auto states = workers->gather(rng.at("cpu"));
      for (size_t r = 1; r < states.size(); ++r) rng[rng_key(int64_t(r))] = states[r];
    }
    if (!primary) return;
    core::write_directory_atomically(last_dir, [&](const fs::path& tmp) {
      task.write_model(tmp, record_with(metrics));
      fs::create_directories(tmp / kTrainingStateDir);
      torch::save(*optimizer, (tmp / kTrainingStateDir / "optimizer.pt").string());
      core::write_text_atomically(tmp / kTrainingStateDir / "state.json", state.to_json().dump(2));
      core::save_safetensors(tmp / kTrainingStateDir / "rng.safetensors", rng);
      if (!options.hooks.empty())
        core::save_safetensors(tmp / kTrainingStateDir / "hooks.safetensors",
                               hook_states(options.hooks));
    });
  };

  if (parallel.enabled()) {
    // The other workers resume from the primary's checkpoint: a fresh run writes one first.
    if (primary && !options.resume) save_last({});
    if (!workers) workers = Collective::join(parallel);
    // A worker without a saved state of its own (a fresh run) draws dropout from its own stream.
    if (!own_rng_restored && !primary)
      torch::manual_seed(uint64_t(options.seed) * 1000003u + uint64_t(rank));
    check_workers_agree(*workers, state, task.num_batches(state.epoch), module);
  }

  Metrics last_metrics;
  int64_t last_validated = -1;
  // Returns whether the run has run out of patience (the primary decides, the others follow).
  auto validate = [&] {
    last_validated = state.step;
    bool out_of_patience = false;
    if (primary) {
      module.eval();
      last_metrics = task.validate();
      module.train();
      json entry = {{"event", "validation"}, {"step", state.step}, {"epoch", state.epoch}};
      for (const auto& [k, v] : last_metrics) entry[k] = v;
      write_log(entry);
      if (callbacks.on_validation) callbacks.on_validation(state.step, last_metrics);
      if (improved(last_metrics, state.best, task.primary_metric(), task.higher_is_better())) {
        state.best = last_metrics;
        state.has_best = true;
        state.bad_validations = 0;
        core::write_directory_atomically(best_dir, [&](const fs::path& tmp) {
          task.write_model(tmp, record_with(last_metrics));
        });
      } else {
        ++state.bad_validations;
      }
      out_of_patience = options.patience > 0 && state.bad_validations >= options.patience;
    }
    if (workers) {
      auto decision = torch::tensor({out_of_patience ? 1.0 : 0.0}, torch::kFloat64);
      workers->broadcast_from_primary(decision);
      out_of_patience = decision.item<double>() > 0;
    }
    return out_of_patience;
  };

  module.train();
  const auto session_start = std::chrono::steady_clock::now();
  const double elapsed_before = state.elapsed_seconds;
  auto now_elapsed = [&] {
    return elapsed_before +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start).count();
  };
  double window_loss = 0, window_tokens = 0, window_throughput = 0;
  auto window_start = std::chrono::steady_clock::now();
  std::string stop_reason = "max_steps";

  auto epochs_left = [&] { return options.max_epochs <= 0 || state.epoch < options.max_epochs; };
  bool stop = false;
  int64_t non_finite_in_a_row = 0;
  // The first batch not yet part of a finished (or skipped) update: where a lost group resumes.
  int64_t committed_batch = state.batch_index;
  try {
    while (!stop && state.step < options.max_steps && epochs_left()) {
      const int64_t batches = task.num_batches(state.epoch);
      while (state.batch_index < batches && state.step < options.max_steps) {
        optimizer->zero_grad();
        // This update's batches, dealt out among the workers by rank.
        const int64_t update_end =
            std::min(batches, state.batch_index + options.update_freq * world);
        UpdateSums sums;
        for (int64_t b = state.batch_index + rank; b < update_end; b += world) {
          LossValue value = task.batch_loss(state.epoch, b);
          value.loss_sum.backward();
          sums.report += value.report_sum;
          sums.tokens += value.tokens;
          sums.throughput += value.input_tokens > 0 ? value.input_tokens : value.tokens;
        }
        state.batch_index = update_end;
        sums.stop_requested = options.stop_requested && options.stop_requested->load();
        if (workers) sum_over_workers(*workers, groups.trainable, sums);
        if (sums.tokens == 0) {
          committed_batch = state.batch_index;
          continue;
        }
        // Gradients of the summed loss, normalized per target token over the whole update.
        for (auto& p : groups.trainable)
          if (p.grad().defined()) p.grad().div_(double(sums.tokens));
        const double gradient_norm = clipped_gradient_norm(groups.trainable, options.clip_norm);
        if (!std::isfinite(sums.report) || !std::isfinite(gradient_norm)) {
          committed_batch = state.batch_index;
          ++state.skipped_updates;
          ++non_finite_in_a_row;
          write_log({{"event", "non_finite"},
                     {"step", state.step + 1},
                     {"epoch", state.epoch},
                     {"skipped_updates", state.skipped_updates}});
          optimizer->zero_grad();
          if (primary)
            spdlog::warn(
                "update {}: the loss or gradients are not finite; update skipped ({} so far)",
                state.step + 1, state.skipped_updates);
          // Updates that are all non-finite would skip forever: the run is broken, not unlucky.
          if (options.on_non_finite == "stop" || non_finite_in_a_row >= kMaxNonFiniteInARow) {
            state.elapsed_seconds = now_elapsed();
            save_last(last_metrics);
            throw NonFiniteUpdate(fmt::format(
                "training stopped: the loss or gradients of update {} are not finite (NaN or "
                "inf){}; {} holds the run before it (resume with --resume, perhaps with a lower "
                "--lr or --clip-norm)",
                state.step + 1,
                non_finite_in_a_row > 1 ? fmt::format(", {} updates in a row", non_finite_in_a_row)
                                        : "",
                last_dir.string()));
          }
          continue;
        }
        non_finite_in_a_row = 0;
        const double lr = learning_rate(options.schedule, state.step + 1);
        set_learning_rate(*optimizer, groups, lr);
        optimizer->step();
        ++state.step;
        committed_batch = state.batch_index;
        for (auto& hook : options.hooks) hook->after_update(state.step, task.model());
        state.tokens_seen += sums.throughput;
        window_loss += sums.report, window_tokens += sums.tokens;
        window_throughput += sums.throughput;

        // Progress after every update (a display throttles itself; a log file gets a line every
        // few seconds however slow the updates), the log every log_every updates.
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
        const TrainProgress progress{state.step,   options.max_steps,
                                     state.epoch,  window_loss / window_tokens,
                                     lr,           window_throughput / std::max(seconds, 1e-9),
                                     now_elapsed()};
        if (callbacks.on_progress && primary) callbacks.on_progress(progress);
        if (state.step % options.log_every == 0 || state.step == options.max_steps) {
          write_log({{"event", "train"},
                     {"step", progress.step},
                     {"epoch", progress.epoch},
                     {"loss", progress.loss},
                     {"lr", lr},
                     {"tokens_per_second", progress.tokens_per_second},
                     {"elapsed_seconds", progress.elapsed_seconds}});
          window_loss = window_tokens = window_throughput = 0;
          window_start = std::chrono::steady_clock::now();
        }
        if (options.validate_every > 0 && state.step % options.validate_every == 0) {
          const bool out_of_patience = validate();
          state.elapsed_seconds = now_elapsed();
          save_last(last_metrics);
          if (out_of_patience) {
            stop = true;
            stop_reason = "early_stopping";
            break;
          }
        }
        if (sums.stop_requested) {
          state.elapsed_seconds = now_elapsed();
          save_last(last_metrics);
          write_log({{"event", "interrupted"}, {"step", state.step}});
          throw core::Interrupted(
              fmt::format("interrupted at step {}; resume with --resume", state.step));
        }
      }
      if (!stop && state.batch_index >= batches) {
        ++state.epoch;
        state.batch_index = committed_batch = 0;
        if (!epochs_left()) stop_reason = "max_epochs";
      }
    }
    if (last_validated != state.step) validate();
    state.elapsed_seconds = now_elapsed();
    save_last(last_metrics);
  } catch (const WorkerLost& lost) {
    // The group is gone: the primary keeps the last finished update, the others just stop.
    if (!primary) throw core::UserError(lost.what());
    state.batch_index = committed_batch;
    state.elapsed_seconds = now_elapsed();
    save_last(last_metrics, /*alone=*/true);
    write_log({{"event", "worker_lost"}, {"step", state.step}});
    throw core::UserError(fmt::format(
        "training stopped: {}; {} holds update {} (resume with --resume and as many workers)",
        lost.what(), last_dir.string(), state.step));
  }
  write_log({{"event", "done"},
             {"step", state.step},
             {"reason", stop_reason},
             {"skipped_updates", state.skipped_updates}});
  if (!primary) throw SecondaryWorkerDone();

  TrainResult result;
  result.steps = state.step;
  result.best = state.best;
  result.seconds = state.elapsed_seconds;
  result.tokens_per_second = state.tokens_seen / std::max(state.elapsed_seconds, 1e-9);
  result.stop_reason = stop_reason;
  result.skipped_updates = state.skipped_updates;
  return result;
}

}  // namespace slimformer::train
