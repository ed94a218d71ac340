// Component importance (Wang & Tu, "Rethinking the Value of Transformer Components", COLING
// 2020), for any model tree and any metric:
//   contribution  switch sublayer n off, measure the metric drop, clip it to [0, C] with
//                 C = clip_fraction * |baseline| (the paper: 10% of BLEU), divide by the
//                 largest clipped drop;
//   criticality   move only n's parameters toward their initial values,
//                 theta = (1 - alpha) theta_init + alpha theta_final, and find by bisection the
//                 smallest alpha that keeps the metric within `threshold` of the full model.
// Both leave the model exactly as they found it.
#pragma once

#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "slimformer/core/safetensors.h"
#include "slimformer/eval/model_evaluator.h"
#include "slimformer/models/model_tree.h"
#include "slimformer/train/data_parallel.h"

namespace slimformer::methods {

inline constexpr char kContribution[] = "contribution";
inline constexpr char kCriticality[] = "criticality";

struct Evaluation;

struct ImportanceOptions {
  bool contribution = true;
  bool criticality = true;
  double clip_fraction = -1;       // C as a fraction of the baseline metric; 0: no clipping;
                                   // < 0: eval::default_clip_fraction of the metric
  double threshold = -1;           // < 0: eval::default_threshold of the metric
  double tolerance = 0.05;         // bisection stops when the alpha interval is this narrow
  std::vector<std::string> paths;  // empty: every sublayer still present
  const std::atomic<bool>* stop_requested = nullptr;     // throws core::Interrupted when set
  std::function<void(const Evaluation&)> on_evaluation;  // after each evaluation (logging)
  // Several workers (train/data_parallel.h), each holding the same model and data: each scores
  // its share of the sublayers and every worker ends with the whole result.
  std::shared_ptr<train::Collective> workers;
};

// Where a sublayer sits, as the paper's heat maps lay it out.
struct SublayerPlace {
  std::string stack;  // "encoder" | "decoder"
  int64_t layer = 0;
  std::string kind;   // "SA" | "EA" | "FF"
  std::string label;  // "E:SA", "D:EA", ...
};
// Parses "<stack>.layers.<i>.<type>"; a UserError for any other path.
SublayerPlace sublayer_place(const std::string& path);

struct SublayerImportance {
  std::string path;
  SublayerPlace place;
  int64_t parameters = 0;
  double metric_off = NAN;    // the metric with the sublayer switched off
  double drop = NAN;          // baseline - metric_off, or its negative for lower-is-better
  double contribution = NAN;  // in [0, 1]
  double criticality = NAN;   // smallest alpha in [0, 1] within threshold
};

// One evaluation behind the scores: the sublayer, what was done ("off", "alpha"), the result.
struct Evaluation {
  std::string path;
  std::string action;
  double alpha = 1;
  double value = 0;
  double seconds = 0;
};

struct RemovalPoint {
  int64_t k = 0;
  std::vector<std::string> removed;  // the k sublayers switched off
  double value = 0;
};

struct ImportanceResult {
  std::string metric;
  bool higher_is_better = true;
  size_t examples = 0;
  double baseline = 0, threshold = 0, clip = 0, tolerance = 0;
  std::vector<SublayerImportance> sublayers;
  std::vector<Evaluation> evaluations;
  std::map<std::string, std::vector<RemovalPoint>> removal_curves;  // by score name
  double seconds = 0;
  // The score named `by` per sublayer, in sublayer order; a UserError if it was not computed.
  std::vector<double> scores(const std::string& by) const;
};

struct ImportanceProgress {
  int64_t done = 0, total = 0;  // evaluations (total is an upper bound)
  std::string phase;            // "baseline", "contribution", "criticality", "removal curve"
  std::string path;
};
using ImportanceCallback = std::function<void(const ImportanceProgress&)>;

// Scores every sublayer (or options.paths). `init` holds the initial parameters by path (needed
// for criticality only).
ImportanceResult score_importance(models::ModelTree& model, const core::TensorMap& init,
                                  eval::ModelEvaluator& evaluator, const ImportanceOptions& options,
                                  const ImportanceCallback& progress = {});

// The `k` least important sublayers by score `by` ("contribution" | "criticality"), least
// important first; ties go to the smaller raw drop, then to the later sublayer.
std::vector<std::string> least_important(const ImportanceResult& result, const std::string& by,
                                         int64_t k);

// The metric with the first k of `order` switched off, for k = 0..max_k; the model is left
// with every sublayer switched on.
std::vector<RemovalPoint> removal_curve(models::ModelTree& model, eval::ModelEvaluator& evaluator,
                                        const std::vector<std::string>& order, int64_t max_k,
                                        const ImportanceCallback& progress = {},
                                        const std::atomic<bool>* stop_requested = nullptr,
                                        train::Collective* workers = nullptr);

}  // namespace slimformer::methods
