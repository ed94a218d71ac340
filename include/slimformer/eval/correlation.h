// Pearson and Spearman correlation, as scipy.stats computes them (Spearman: Pearson of the
// ranks, tied values sharing their average rank).
#pragma once

#include <vector>

namespace slimformer::eval {

// NaN when fewer than two values or when either side is constant.
double pearson(const std::vector<double>& x, const std::vector<double>& y);
double spearman(const std::vector<double>& x, const std::vector<double>& y);

// 1-based ranks; ties get the average of the ranks they span.
std::vector<double> average_ranks(const std::vector<double>& values);

}  // namespace slimformer::eval
