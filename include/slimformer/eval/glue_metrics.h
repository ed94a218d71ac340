// GLUE metrics as the benchmark defines them (the scikit-learn/scipy definitions): accuracy,
// F1 of the positive class, Matthews correlation, Pearson and Spearman correlation; and each
// task's score in the form the GLUE leaderboard prints it (x100, "F1/accuracy" for MRPC,
// "Pearson/Spearman" for STS-B).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "slimformer/data/text_task.h"

namespace slimformer::eval {

double accuracy(const std::vector<int64_t>& predicted, const std::vector<int64_t>& gold);
// F1 of class 1; 0 when there are no true positives (scikit-learn's zero_division=0).
double binary_f1(const std::vector<int64_t>& predicted, const std::vector<int64_t>& gold);
// Matthews correlation coefficient of two binary labelings; 0 when undefined (scikit-learn).
double matthews_correlation(const std::vector<int64_t>& predicted,
                            const std::vector<int64_t>& gold);

struct GlueScore {
  std::map<std::string, double> metrics;  // "accuracy", "f1", "mcc", "pearson", "spearman"
  std::string primary;                    // the metric a checkpoint is chosen by
  std::string leaderboard;                // "MRPC 88.9/84.8"
};

// Scores predictions (class indices, or scores of a regression task) against gold labels; the
// primary metric is the task's.
GlueScore glue_score(const data::TextTask& task, const std::vector<double>& predicted,
                     const std::vector<double>& gold);

}  // namespace slimformer::eval
