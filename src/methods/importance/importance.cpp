#include "slimformer/methods/importance/importance.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
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
  const int64_t bisections = static_cast<int64_t>(std::ceil(std::log2(1.0 / options.tolerance)));
  const int64_t total =
      1 + (options.contribution ? n : 0) + (options.criticality ? n * (1 + bisections) : 0);

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
    for (int64_t i = 0; i < n; ++i) {
      auto& entry = result.sublayers[i];
      SublayerRestorer restore(sublayers[i]);
      sublayers[i]->set_enabled(false);
      entry.metric_off = log.run(kContribution, entry.path, "off", 0.0, {entry.path});
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
    for (int64_t i = 0; i < n; ++i) {
      auto& entry = result.sublayers[i];
      SublayerRestorer restore(sublayers[i]);
      auto acceptable = [&](double alpha) {
        sublayers[i]->interpolate(init, restore.saved(), alpha);
        const double v = log.run(kCriticality, entry.path, "alpha", alpha, {entry.path});
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
      entry.criticality = hi;
    }
  }
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
                                        const std::atomic<bool>* stop_requested) {
  max_k = std::min<int64_t>(max_k, order.size());
  std::vector<std::unique_ptr<SublayerRestorer>> restorers;
  std::vector<RemovalPoint> curve;
  for (int64_t k = 0; k <= max_k; ++k) {
    check_stop(stop_requested);
    if (k > 0) {
      auto s = model.sublayer(order[k - 1]);
      restorers.push_back(std::make_unique<SublayerRestorer>(s));
      s->set_enabled(false);
    }
    std::vector<std::string> removed(order.begin(), order.begin() + k);
    if (progress) progress({k, max_k + 1, "removal curve", k ? order[k - 1] : ""});
    curve.push_back({k, removed, evaluator.evaluate(removed)});
  }
  if (progress) progress({max_k + 1, max_k + 1, "removal curve", ""});
  return curve;
}

}  // namespace slimformer::methods
