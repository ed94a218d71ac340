// Samplers of the FFN search: which architecture to evaluate next, given those evaluated so far.
//   - random: a uniform draw from the search space (the control);
//   - lanas: a LaNAS-style learned partition (Wang et al. 2019, as EfficientBERT uses it): the
//     evaluated samples are split recursively at their median score by a learned linear
//     classifier (logistic regression on architecture_features), a path from the root to a leaf
//     is chosen by UCB, and the next architecture is drawn inside that leaf's region (rejection
//     sampling: a draw is kept when every classifier on the path puts it on the path's side).
// The first `initial_samples` draws of lanas are random, as in the method's code. A sampler is
// deterministic: a proposal depends only on the seed, the draw's number and what it is given.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "slimformer/methods/search/search_space.h"

namespace slimformer::methods {

struct EvaluatedSample {
  Architecture architecture;
  double score = 0;  // higher is better
};

struct SamplerOptions {
  std::string kind = "lanas";  // lanas | random
  uint64_t seed = 1;
  int64_t initial_samples = 16;  // lanas: random draws before the first partition
  int64_t tree_depth = 2;        // lanas: splits from the root to a leaf, at most
  int64_t min_leaf = 4;          // lanas: a node with fewer samples than 2 x this is a leaf
  double exploration = 0.1;      // lanas: UCB's constant, in units of the scores' spread
  int rejection_tries = 5000;    // lanas: draws tried inside the chosen region
};

// A logistic-regression classifier of feature vectors (standardized inside), trained by full
// batch gradient descent with a little L2; deterministic.
class LinearClassifier {
 public:
  void fit(const std::vector<std::vector<double>>& x, const std::vector<int>& labels);
  // P(label 1).
  double probability(const std::vector<double>& x) const;
  bool positive(const std::vector<double>& x) const { return probability(x) >= 0.5; }

 private:
  std::vector<double> mean_, scale_, weights_;
  double bias_ = 0;
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  // Draw number `draw`: an architecture valid in `space`, learned from `history`, not among
  // `taken` (the evaluated and claimed ones, as Architecture::to_string) unless the space holds
  // no other within the tries.
  virtual Architecture propose(const SearchSpace& space,
                               const std::vector<EvaluatedSample>& history,
                               const std::set<std::string>& taken, uint64_t draw) = 0;
  // What the last proposal was drawn from ("random", "lanas leaf good/bad ..."), for the log.
  virtual std::string last_region() const = 0;
};

// A UserError for an unknown kind or option out of range.
std::unique_ptr<Sampler> make_sampler(const SamplerOptions& options);

}  // namespace slimformer::methods
