#include "slimformer/methods/search/sampler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "slimformer/core/error.h"

namespace slimformer::methods {

namespace {

std::mt19937_64 rng_for(uint64_t seed, size_t index) {
  std::seed_seq seq{seed, static_cast<uint64_t>(index), uint64_t{0x5eed}};
  return std::mt19937_64(seq);
}

// A fresh random architecture, not one of `taken` when the space allows within a few draws.
Architecture fresh_random(const SearchSpace& space, std::mt19937_64& rng,
                          const std::set<std::string>& taken) {
  Architecture a = random_architecture(space, rng);
  for (int i = 0; i < 200 && taken.count(a.to_string()); ++i) a = random_architecture(space, rng);
  return a;
}

class RandomSampler : public Sampler {
 public:
  explicit RandomSampler(SamplerOptions o) : options_(std::move(o)) {}
  Architecture propose(const SearchSpace& space, const std::vector<EvaluatedSample>& /*history*/,
                       const std::set<std::string>& taken, uint64_t draw) override {
    auto rng = rng_for(options_.seed, draw);
    return fresh_random(space, rng, taken);
  }
  std::string last_region() const override { return "random"; }

 private:
  SamplerOptions options_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / std::max<size_t>(1, v.size());
}

// A node of the partition tree over sample indices.
struct Node {
  std::vector<size_t> samples;
  LinearClassifier classifier;  // positive: the good child
  std::unique_ptr<Node> good, bad;
};

class LanasSampler : public Sampler {
 public:
  explicit LanasSampler(SamplerOptions o) : options_(std::move(o)) {}

  Architecture propose(const SearchSpace& space, const std::vector<EvaluatedSample>& history,
                       const std::set<std::string>& taken, uint64_t draw) override {
    auto rng = rng_for(options_.seed, draw);
    if (static_cast<int64_t>(history.size()) < options_.initial_samples) {
      region_ = "random (initial samples)";
      return fresh_random(space, rng, taken);
    }
    std::vector<std::vector<double>> features;
    std::vector<double> scores;
    for (const auto& s : history) {
      features.push_back(architecture_features(space, s.architecture));
      scores.push_back(s.score);
    }
    Node root;
    root.samples.resize(history.size());
    std::iota(root.samples.begin(), root.samples.end(), 0);
    split(root, features, scores, 0);

    // The path by UCB, then a draw inside its region.
    const double spread = std::max(1e-9, *std::max_element(scores.begin(), scores.end()) -
                                             *std::min_element(scores.begin(), scores.end()));
    std::vector<std::pair<const Node*, bool>> path;  // node, good side taken
    std::string name;
    for (const Node* n = &root; n->good;) {
      const auto ucb = [&](const Node& child) {
        std::vector<double> s;
        for (size_t i : child.samples) s.push_back(scores[i]);
        return mean(s) + options_.exploration * spread *
                             std::sqrt(2.0 * std::log(double(n->samples.size())) /
                                       double(child.samples.size()));
      };
      const bool good = ucb(*n->good) >= ucb(*n->bad);
      path.emplace_back(n, good);
      name += good ? "good/" : "bad/";
      n = good ? n->good.get() : n->bad.get();
    }
    region_ = path.empty() ? "lanas root (no split)" : "lanas " + name.substr(0, name.size() - 1);
    for (int t = 0; t < options_.rejection_tries; ++t) {
      Architecture a = random_architecture(space, rng);
      if (taken.count(a.to_string())) continue;
      const auto f = architecture_features(space, a);
      const bool inside = std::all_of(path.begin(), path.end(), [&](const auto& step) {
        return step.first->classifier.positive(f) == step.second;
      });
      if (inside) return a;
    }
    region_ += " (region exhausted: random)";
    return fresh_random(space, rng, taken);
  }
  std::string last_region() const override { return region_; }

 private:
  void split(Node& node, const std::vector<std::vector<double>>& features,
             const std::vector<double>& scores, int64_t depth) const {
    if (depth >= options_.tree_depth ||
        static_cast<int64_t>(node.samples.size()) < 2 * options_.min_leaf)
      return;
    std::vector<double> s;
    for (size_t i : node.samples) s.push_back(scores[i]);
    const double m = median(s);
    std::vector<std::vector<double>> x;
    std::vector<int> labels;
    for (size_t i : node.samples) {
      x.push_back(features[i]);
      labels.push_back(scores[i] >= m);
    }
    node.classifier.fit(x, labels);
    auto good = std::make_unique<Node>(), bad = std::make_unique<Node>();
    for (size_t i : node.samples)
      (node.classifier.positive(features[i]) ? good : bad)->samples.push_back(i);
    // A classifier that cannot separate the samples leaves the node a leaf.
    if (static_cast<int64_t>(good->samples.size()) < options_.min_leaf ||
        static_cast<int64_t>(bad->samples.size()) < options_.min_leaf)
      return;
    split(*good, features, scores, depth + 1);
    split(*bad, features, scores, depth + 1);
    node.good = std::move(good);
    node.bad = std::move(bad);
  }

  SamplerOptions options_;
  std::string region_ = "none";
};

}  // namespace

void LinearClassifier::fit(const std::vector<std::vector<double>>& x,
                           const std::vector<int>& labels) {
  const size_t n = x.size(), d = x.empty() ? 0 : x[0].size();
  mean_.assign(d, 0.0);
  scale_.assign(d, 1.0);
  for (size_t j = 0; j < d; ++j) {
    double sum = 0, squares = 0;
    for (const auto& row : x) sum += row[j];
    mean_[j] = sum / n;
    for (const auto& row : x) squares += (row[j] - mean_[j]) * (row[j] - mean_[j]);
    const double sd = std::sqrt(squares / n);
    scale_[j] = sd > 1e-9 ? 1.0 / sd : 0.0;
  }
  weights_.assign(d, 0.0);
  bias_ = 0;
  const double rate = 0.5, l2 = 1e-2;
  for (int epoch = 0; epoch < 500; ++epoch) {
    std::vector<double> grad(d, 0.0);
    double grad_bias = 0;
    for (size_t i = 0; i < n; ++i) {
      const double err = probability(x[i]) - labels[i];
      for (size_t j = 0; j < d; ++j) grad[j] += err * (x[i][j] - mean_[j]) * scale_[j];
      grad_bias += err;
    }
    for (size_t j = 0; j < d; ++j) weights_[j] -= rate * (grad[j] / n + l2 * weights_[j]);
    bias_ -= rate * grad_bias / n;
  }
}

double LinearClassifier::probability(const std::vector<double>& x) const {
  double z = bias_;
  for (size_t j = 0; j < weights_.size(); ++j) z += weights_[j] * (x[j] - mean_[j]) * scale_[j];
  return 1.0 / (1.0 + std::exp(-z));
}

std::unique_ptr<Sampler> make_sampler(const SamplerOptions& options) {
  if (options.initial_samples < 0) throw core::UserError("--initial-samples must be >= 0");
  if (options.tree_depth < 0) throw core::UserError("--tree-depth must be >= 0");
  if (options.kind == "random") return std::make_unique<RandomSampler>(options);
  if (options.kind == "lanas") return std::make_unique<LanasSampler>(options);
  throw core::UserError(fmt::format("--sampler {} is not lanas or random", options.kind));
}

}  // namespace slimformer::methods
