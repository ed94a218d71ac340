// The search space of EfficientBERT's FFN search: one expression per encoder layer, drawn the
// way the method's code draws them (start from the standard FFN at a size, mutate the tree until
// it is valid), under a parameter budget over all layers' FFNs, and restricted per stage:
//   stage 1: expressions, depths and widths together;
//   stage 2: expressions only, each layer keeping the size it was given;
//   stage 3: depths and widths only, each layer keeping its expression.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "slimformer/nn/ffn_expression.h"

namespace slimformer::methods {

// One expression per layer, lowest layer first.
struct Architecture {
  std::vector<nn::FfnExpression> layers;

  // The layers' expressions separated by "; ", which `parse` reads back.
  std::string to_string() const;
  static Architecture parse(const std::string& text);
  bool operator==(const Architecture& other) const = default;
};

struct SearchSpace {
  int64_t layers = 4;
  int64_t model_width = 256;
  int stage = 1;
  // The FFNs' parameters summed over the layers must lie in [min_parameters, max_parameters].
  int64_t min_parameters = 0, max_parameters = 0;
  // Stage 2: the sizes kept; stage 3: the expressions kept (one per layer).
  Architecture fixed;

  // A UserError naming the option when the space cannot hold any architecture.
  void check() const;
  int64_t parameters(const Architecture& a) const;
  bool within_budget(const Architecture& a) const;
  // The rule an architecture breaks in this space ("" when none): an invalid layer, a size or
  // expression the stage keeps fixed, the budget.
  std::string violation(const Architecture& a) const;
};

// Mutates an expression the way the method's code does (replace a subtree with a random one,
// swap an operation for another of its arity, wrap a subtree in a new node, or drop a node),
// one to three times; the result may be invalid.
nn::FfnExpression mutate(const nn::FfnExpression& expr, std::mt19937_64& rng);

// A random valid expression at the given size: the standard FFN's, mutated until valid (at most
// `tries` times; the standard one when none is).
nn::FfnExpression random_expression(int64_t depth, int64_t ratio, std::mt19937_64& rng,
                                    int tries = 1000);

// A random architecture of the space (within its budget; up to `tries` draws, then a UserError).
Architecture random_architecture(const SearchSpace& space, std::mt19937_64& rng,
                                 int tries = 10000);

// Numeric features of an architecture for the learned sampler: per layer the depth and ratio
// (one-hot), the count of each operation and the height, then the share of the budget used.
std::vector<double> architecture_features(const SearchSpace& space, const Architecture& a);

}  // namespace slimformer::methods
