#include "slimformer/eval/glue_metrics.h"

#include <fmt/format.h>

#include <cmath>

#include "slimformer/core/error.h"
#include "slimformer/eval/correlation.h"

namespace slimformer::eval {

namespace {

void check_sizes(size_t predicted, size_t gold) {
  if (predicted != gold || predicted == 0)
    throw core::UserError(fmt::format(
        "{} predictions for {} labels: nothing to score or a mismatch", predicted, gold));
}

struct Confusion {
  double tp = 0, tn = 0, fp = 0, fn = 0;
};

Confusion confusion(const std::vector<int64_t>& predicted, const std::vector<int64_t>& gold) {
  check_sizes(predicted.size(), gold.size());
  Confusion c;
  for (size_t i = 0; i < gold.size(); ++i) {
    const bool p = predicted[i] == 1, g = gold[i] == 1;
    (p ? (g ? c.tp : c.fp) : (g ? c.fn : c.tn)) += 1;
  }
  return c;
}

std::vector<int64_t> as_classes(const std::vector<double>& values) {
  std::vector<int64_t> out;
  for (double v : values) out.push_back(static_cast<int64_t>(std::lround(v)));
  return out;
}

}  // namespace

double accuracy(const std::vector<int64_t>& predicted, const std::vector<int64_t>& gold) {
  check_sizes(predicted.size(), gold.size());
  double correct = 0;
  for (size_t i = 0; i < gold.size(); ++i) correct += predicted[i] == gold[i];
  return correct / static_cast<double>(gold.size());
}

double binary_f1(const std::vector<int64_t>& predicted, const std::vector<int64_t>& gold) {
  auto c = confusion(predicted, gold);
  return c.tp == 0 ? 0.0 : 2 * c.tp / (2 * c.tp + c.fp + c.fn);
}

double matthews_correlation(const std::vector<int64_t>& predicted,
                            const std::vector<int64_t>& gold) {
  auto c = confusion(predicted, gold);
  const double denominator = (c.tp + c.fp) * (c.tp + c.fn) * (c.tn + c.fp) * (c.tn + c.fn);
  return denominator == 0 ? 0.0 : (c.tp * c.tn - c.fp * c.fn) / std::sqrt(denominator);
}

GlueScore glue_score(const data::TextTask& task, const std::vector<double>& predicted,
                     const std::vector<double>& gold) {
  check_sizes(predicted.size(), gold.size());
  GlueScore score;
  auto& m = score.metrics;
  score.primary = task.metric;
  if (task.regression()) {
    m["pearson"] = pearson(predicted, gold);
    m["spearman"] = spearman(predicted, gold);
    score.leaderboard =
        fmt::format("{} {:.1f}/{:.1f}", task.name, 100 * m["pearson"], 100 * m["spearman"]);
    return score;
  }
  auto p = as_classes(predicted), g = as_classes(gold);
  m["accuracy"] = accuracy(p, g);
  if (task.metric == "f1") {
    m["f1"] = binary_f1(p, g);
    score.leaderboard =
        fmt::format("{} {:.1f}/{:.1f}", task.name, 100 * m["f1"], 100 * m["accuracy"]);
  } else if (task.metric == "mcc") {
    m["mcc"] = matthews_correlation(p, g);
    score.leaderboard = fmt::format("{} {:.1f}", task.name, 100 * m["mcc"]);
  } else {
    score.leaderboard = fmt::format("{} {:.1f}", task.name, 100 * m["accuracy"]);
  }
  return score;
}

}  // namespace slimformer::eval
