#include "slimformer/methods/importance/importance.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <regex>

#include "slimformer/core/error.h"

namespace slimformer::methods {

namespace {

using Clock = std::chrono::steady_clock;

void check_stop(const std::atomic<bool>* stop) {
  if (stop && stop->load()) throw core::Interrupted("importance scoring interrupted");
}

// Counts and times evaluations and reports progress.
class EvaluationLog {
 public:
  EvaluationLog(eval::ModelEvaluator& evaluator, ImportanceResult& result, int64_t total,
                const ImportanceCallback& progress, const ImportanceOptions& options)
      : evaluator_(evaluator),
        result_(result),
        total_(total),
        progress_(progress),
        stop_(options.stop_requested),
        on_evaluation_(options.on_evaluation) {}

  double run(const std::string& phase, const std::string& path, const std::string& action,
             double alpha, const std::vector<std::string>& changed) {
    check_stop(stop_);
    if (progress_) progress_({done_, total_, phase, path});
    auto start = Clock::now();
    const double value = evaluator_.evaluate(changed);
    result_.evaluations.push_back(
        {path, action, alpha, value, std::chrono::duration<double>(Clock::now() - start).count()});
    ++done_;
    if (on_evaluation_) on_evaluation_(result_.evaluations.back());
    if (progress_) progress_({done_, total_, phase, path});
    return value;
  }

 private:
  eval::ModelEvaluator& evaluator_;
  ImportanceResult& result_;
  int64_t done_ = 0, total_;
  ImportanceCallback progress_;
  const std::atomic<bool>* stop_;
  std::function<void(const Evaluation&)> on_evaluation_;
};

// Restores a sublayer's parameters and switch however the scoring of it ends.
class SublayerRestorer {
 public:
  explicit SublayerRestorer(nn::Sublayer sublayer)
      : sublayer_(std::move(sublayer)), enabled_(sublayer_->enabled()) {
    for (const auto& [key, t] : sublayer_->state()) saved_[key] = t.detach().clone();
  }
  SublayerRestorer(const SublayerRestorer&) = delete;
  SublayerRestorer& operator=(const SublayerRestorer&) = delete;
  ~SublayerRestorer() {
    sublayer_->load_state(saved_);
    sublayer_->set_enabled(enabled_);
  }
  const core::TensorMap& saved() const { return saved_; }

 private:
  nn::Sublayer sublayer_;
  bool enabled_;
  core::TensorMap saved_;
};

std::vector<nn::Sublayer> scored_sublayers(models::ModelTree& model,
                                           const std::vector<std::string>& paths) {
  std::vector<nn::Sublayer> out;
  if (paths.empty()) {
    for (auto& s : model.sublayers())
      if (!s->removed()) out.push_back(s);
  } else {
    for (const auto& p : paths) {
      auto s = model.sublayer(p);
      if (s->removed()) throw core::UserError(fmt::format("sublayer {} has been removed", p));
      out.push_back(s);
    }
  }
  if (out.empty()) throw core::UserError("the model has no sublayers left to score");
  return out;
}

// Whether this worker evaluates item `i` (a sublayer, a point of a curve): items are dealt out by
// index.
bool is_mine(const train::Collective* workers, int64_t i) {
  return !workers || i % workers->world_size() == workers->rank();
}

// Every worker's evaluations in the primary's result, in the order one worker would have made
// them: the baseline, then each phase sublayer by sublayer.
void merge_evaluations(train::Collective& workers, ImportanceResult& result) {
  nlohmann::json own = nlohmann::json::array();
  for (const auto& e : result.evaluations)
    if (workers.rank() == 0 || e.action != "full")  // one baseline
      own.push_back({e.path, e.action, e.alpha, e.value, e.seconds});
  std::vector<Evaluation> all;
  for (const auto& text : train::gather_strings(workers, own.dump()))
    for (const auto& e : nlohmann::json::parse(text)) all.push_back({e[0], e[1], e[2], e[3], e[4]});
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < result.sublayers.size(); ++i) position[result.sublayers[i].path] = i;
  auto rank_of = [&](const Evaluation& e) {
    const int phase = e.action == "full" ? 0 : e.action == "off" ? 1 : 2;
    return std::pair{phase, e.path.empty() ? size_t(0) : position.at(e.path)};
  };
  std::stable_sort(all.begin(), all.end(), [&](const Evaluation& a, const Evaluation& b) {
    return rank_of(a) < rank_of(b);
  });
  result.evaluations = std::move(all);
}

bool within(double value, double baseline, double threshold, bool higher_is_better) {
  return higher_is_better ? value >= baseline - threshold : value <= baseline + threshold;
}

}  // namespace

SublayerPlace sublayer_place(const std::string& path) {
  static const std::regex pattern(
      R"((encoder|decoder)\.layers\.(\d+)\.(self_attn|cross_attn|ffn))");
  std::smatch m;
  if (!std::regex_match(path, m, pattern))
    throw core::UserError(fmt::format(
        "sublayer path {} is not of the form encoder|decoder.layers.N.self_attn|cross_attn|ffn",
        path));
  SublayerPlace place;
  place.stack = m[1];
  place.layer = std::stoll(m[2]);
  place.kind = m[3] == "self_attn" ? "SA" : m[3] == "cross_attn" ? "EA" : "FF";
  place.label = fmt::format("{}:{}", place.stack == "encoder" ? 'E' : 'D', place.kind);
  return place;
}

std::vector<double> ImportanceResult::scores(const std::string& by) const {
  if (by != kContribution && by != kCriticality)
    throw core::UserError(fmt::format("score {} is unknown; use contribution or criticality", by));
  std::vector<double> out;
  for (const auto& s : sublayers) {
    const double v = by == kContribution ? s.contribution : s.criticality;
    if (std::isnan(v))
      throw core::UserError(fmt::format(
          "these importance results have no {} scores (run importance with --scores {})", by, by));
    out.push_back(v);
  }
  return out;
}

ImportanceResult score_importance(models::ModelTree& model, const core::TensorMap& init,
                                  eval::ModelEvaluator& evaluator, const ImportanceOptions& options,
                                  const ImportanceCallback& progress) {
  if (!options.contribution && !options.criticality)
    throw core::UserError("--scores must name contribution, criticality or both");
  if (!(options.tolerance > 0 && options.tolerance < 1))
    throw core::UserError(fmt::format("--tolerance must be in (0, 1), got {}", options.tolerance));
  auto sublayers = scored_sublayers(model, options.paths);
  if (options.criticality) {
    for (auto& s : sublayers)
      for (const auto& [key, t] : s->state())
        if (!init.count(key))
          throw core::UserError(fmt::format(
              "criticality needs the model's initial parameters, and {} is not among them "
              "(a checkpoint without init.safetensors; use --scores contribution)",
              key));
  }
  const auto start = Clock::now();
  const int64_t n = sublayers.size();
  train::Collective* workers = options.workers.get();
  const int64_t bisections = static_cast<int64_t>(std::ceil(std::log2(1.0 / options.tolerance)));
  // This worker's share of the sublayers.
  const int64_t share =
      workers ? (n - workers->rank() + workers->world_size() - 1) / workers->world_size() : n;
  const int64_t total =
      1 + (options.contribution ? share : 0) + (options.criticality ? share * (1 + bisections) : 0);

  ImportanceResult result;
  result.metric = evaluator.metric();
  result.higher_is_better = evaluator.higher_is_better();
  result.examples = evaluator.examples();
  result.tolerance = options.tolerance;
  EvaluationLog log(evaluator, result, total, progress, options);
  result.baseline = log.run("baseline", "", "full", 1.0, {});
  const double clip_fraction = options.clip_fraction >= 0
                                   ? options.clip_fraction
                                   : eval::default_clip_fraction(result.metric);
  // No clipping (fraction 0): the clip is the largest drop, known once every drop is.
  result.clip = clip_fraction * std::abs(result.baseline);
  result.threshold = options.threshold >= 0
                         ? options.threshold
                         : eval::default_threshold(result.metric, result.baseline);

  for (auto& s : sublayers) {
    SublayerImportance entry;
    entry.path = s->path();
    entry.place = sublayer_place(s->path());
    entry.parameters = s->num_parameters();
    result.sublayers.push_back(entry);
  }

  if (options.contribution) {
    double largest = 0;
    std::vector<double> metric_off(n, 0.0);
    for (int64_t i = 0; i < n; ++i) {
      if (!is_mine(workers, i)) continue;
      SublayerRestorer restore(sublayers[i]);
      sublayers[i]->set_enabled(false);
      metric_off[i] =
          log.run(kContribution, result.sublayers[i].path, "off", 0.0, {result.sublayers[i].path});
    }
    if (workers) train::sum_values(*workers, metric_off);
    for (int64_t i = 0; i < n; ++i) {
      auto& entry = result.sublayers[i];
      entry.metric_off = metric_off[i];
      entry.drop = result.higher_is_better ? result.baseline - entry.metric_off
                                           : entry.metric_off - result.baseline;
    }
    if (clip_fraction == 0)
      for (const auto& entry : result.sublayers) result.clip = std::max(result.clip, entry.drop);
    for (const auto& entry : result.sublayers)
      largest = std::max(largest, std::clamp(entry.drop, 0.0, result.clip));
    for (auto& entry : result.sublayers)
      entry.contribution = largest > 0 ? std::clamp(entry.drop, 0.0, result.clip) / largest : 0.0;
  }

  if (options.criticality) {
    std::vector<double> criticality(n, 0.0);
    for (int64_t i = 0; i < n; ++i) {
      if (!is_mine(workers, i)) continue;
      const auto& path = result.sublayers[i].path;
      SublayerRestorer restore(sublayers[i]);
      auto acceptable = [&](double alpha) {
        sublayers[i]->interpolate(init, restore.saved(), alpha);
        const double v = log.run(kCriticality, path, "alpha", alpha, {path});
        return within(v, result.baseline, result.threshold, result.higher_is_better);
      };
      // alpha = 1 is the trained model, acceptable by definition; bisect toward 0.
      double lo = 0.0, hi = 1.0;
      if (acceptable(0.0)) {
        hi = 0.0;
      } else {
        while (hi - lo > options.tolerance) {
          const double mid = 0.5 * (lo + hi);
          (acceptable(mid) ? hi : lo) = mid;
        }
      }
      criticality[i] = hi;
    }
    if (workers) train::sum_values(*workers, criticality);
    for (int64_t i = 0; i < n; ++i) result.sublayers[i].criticality = criticality[i];
  }
  if (workers) merge_evaluations(*workers, result);
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

std::vector<std::string> least_important(const ImportanceResult& result, const std::string& by,
                                         int64_t k) {
  const auto values = result.scores(by);
  const int64_t n = values.size();
  if (k < 0 || k > n)
    throw core::UserError(
        fmt::format("--k must be in [0, {}] (the scored sublayers), got {}", n, k));
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  auto raw_drop = [&](int64_t i) {
    const double d = result.sublayers[i].drop;
    return std::isnan(d) ? 0.0 : d;
  };
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (values[a] != values[b]) return values[a] < values[b];
    if (raw_drop(a) != raw_drop(b)) return raw_drop(a) < raw_drop(b);
    return a > b;
  });
  std::vector<std::string> out;
  for (int64_t i = 0; i < k; ++i) out.push_back(result.sublayers[order[i]].path);
  return out;
}

std::vector<RemovalPoint> removal_curve(models::ModelTree& model, eval::ModelEvaluator& evaluator,
                                        const std::vector<std::string>& order, int64_t max_k,
                                        const ImportanceCallback& progress,
                                        const std::atomic<bool>* stop_requested,
                                        train::Collective* workers) {
  max_k = std::min<int64_t>(max_k, order.size());
  std::vector<std::unique_ptr<SublayerRestorer>> restorers;
  std::vector<double> values(max_k + 1, 0.0);
  for (int64_t k = 0; k <= max_k; ++k) {
    check_stop(stop_requested);
    if (k > 0) {
      auto s = model.sublayer(order[k - 1]);
      restorers.push_back(std::make_unique<SublayerRestorer>(s));
      s->set_enabled(false);
    }
    if (!is_mine(workers, k)) continue;
    std::vector<std::string> removed(order.begin(), order.begin() + k);
    if (progress) progress({k, max_k + 1, "removal curve", k ? order[k - 1] : ""});
    values[k] = evaluator.evaluate(removed);
  }
  if (progress) progress({max_k + 1, max_k + 1, "removal curve", ""});
  if (workers) train::sum_values(*workers, values);
  std::vector<RemovalPoint> curve;
  for (int64_t k = 0; k <= max_k; ++k)
    curve.push_back({k, std::vector<std::string>(order.begin(), order.begin() + k), values[k]});
  return curve;
}

}  // namespace slimformer::methods
