#include "slimformer/methods/search/search_space.h"

#include <fmt/format.h>

#include <algorithm>

#include "slimformer/core/error.h"

namespace slimformer::methods {

namespace {

using nn::ExprNode;
using nn::FfnExpression;

template <typename T>
const T& pick(const std::vector<T>& items, std::mt19937_64& rng) {
  return items[std::uniform_int_distribution<size_t>(0, items.size() - 1)(rng)];
}

bool coin(std::mt19937_64& rng, double p = 0.5) {
  return std::uniform_real_distribution<double>(0, 1)(rng) < p;
}

// Every node a mutation may change: all but the projection leaves.
void collect(ExprNode& n, std::vector<ExprNode*>& out, bool operations_only) {
  const bool operation = n.kind == ExprNode::Kind::kUnary || n.kind == ExprNode::Kind::kBinary;
  if (n.kind != ExprNode::Kind::kProjection && (!operations_only || operation)) out.push_back(&n);
  for (auto& arg : n.args) collect(arg, out, operations_only);
}

ExprNode input() { return ExprNode{ExprNode::Kind::kInput, "x", {}}; }

// A random tree over x of height at most `height` (the code's genFull with height 0-3).
ExprNode random_subtree(int64_t height, std::mt19937_64& rng) {
  if (height == 0 || coin(rng, 0.3)) return input();
  if (coin(rng))
    return ExprNode{ExprNode::Kind::kUnary, pick(nn::expression_activations(), rng),
                    {random_subtree(height - 1, rng)}};
  return ExprNode{ExprNode::Kind::kBinary, pick(nn::expression_binary_ops(), rng),
                  {random_subtree(height - 1, rng), random_subtree(height - 1, rng)}};
}

void mutate_once(ExprNode& root, std::mt19937_64& rng) {
  std::vector<ExprNode*> nodes;
  switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
    case 0: {  // replace a subtree with a random one
      collect(root, nodes, false);
      *pick(nodes, rng) = random_subtree(std::uniform_int_distribution<int64_t>(0, 3)(rng), rng);
      return;
    }
    case 1: {  // another operation of the same arity
      collect(root, nodes, true);
      if (nodes.empty()) return;
      ExprNode* n = pick(nodes, rng);
      n->op = pick(n->kind == ExprNode::Kind::kUnary ? nn::expression_activations()
                                                      : nn::expression_binary_ops(),
                   rng);
      return;
    }
    case 2: {  // wrap a subtree in a new node
      collect(root, nodes, false);
      ExprNode* n = pick(nodes, rng);
      ExprNode inner = *n;
      if (coin(rng)) {
        *n = ExprNode{ExprNode::Kind::kUnary, pick(nn::expression_activations(), rng), {inner}};
      } else {
        ExprNode other = random_subtree(1, rng);
        *n = ExprNode{ExprNode::Kind::kBinary, pick(nn::expression_binary_ops(), rng),
                      coin(rng) ? std::vector<ExprNode>{inner, other}
                                : std::vector<ExprNode>{other, inner}};
      }
      return;
    }
    default: {  // drop an operation, keeping one of its operands
      collect(root, nodes, true);
      if (nodes.empty()) return;
      ExprNode* n = pick(nodes, rng);
      ExprNode kept = pick(n->args, rng);
      *n = kept;
    }
  }
}

}  // namespace

std::string Architecture::to_string() const {
  std::string out;
  for (size_t i = 0; i < layers.size(); ++i) out += (i ? "; " : "") + layers[i].to_string();
  return out;
}

Architecture Architecture::parse(const std::string& text) {
  Architecture a;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(';', start), text.size());
    a.layers.push_back(FfnExpression::parse(text.substr(start, end - start)));
    start = end + 1;
  }
  return a;
}

void SearchSpace::check() const {
  if (stage < 1 || stage > 3) throw core::UserError(fmt::format("--stage {} is not 1, 2 or 3", stage));
  if (layers < 1) throw core::UserError("the student needs at least one layer");
  if (min_parameters > max_parameters)
    throw core::UserError(fmt::format("--min-params {} exceeds --max-params {}", min_parameters,
                                      max_parameters));
  if (stage > 1 && static_cast<int64_t>(fixed.layers.size()) != layers)
    throw core::UserError(fmt::format(
        "stage {} keeps one {} per layer: {} given for {} layers", stage,
        stage == 2 ? "size" : "expression", fixed.layers.size(), layers));
}

int64_t SearchSpace::parameters(const Architecture& a) const {
  int64_t total = 0;
  for (const auto& e : a.layers) total += nn::expression_parameters(e, model_width);
  return total;
}

bool SearchSpace::within_budget(const Architecture& a) const {
  const int64_t p = parameters(a);
  return p >= min_parameters && p <= max_parameters;
}

std::string SearchSpace::violation(const Architecture& a) const {
  if (static_cast<int64_t>(a.layers.size()) != layers)
    return fmt::format("{} expressions for {} layers", a.layers.size(), layers);
  for (int64_t i = 0; i < layers; ++i) {
    const auto& e = a.layers[i];
    if (auto rule = e.violation(); !rule.empty()) return fmt::format("layer {}: {}", i, rule);
    if (stage == 2 && (e.depth() != fixed.layers[i].depth() || e.ratio() != fixed.layers[i].ratio()))
      return fmt::format("layer {}: stage 2 keeps its size linear{}_{}", i,
                         fixed.layers[i].depth(), fixed.layers[i].ratio());
    if (stage == 3 && !(e.with_size(1, 1) == fixed.layers[i].with_size(1, 1)))
      return fmt::format("layer {}: stage 3 keeps its expression", i);
  }
  if (!within_budget(a))
    return fmt::format("{} FFN parameters, outside the budget [{}, {}]", parameters(a),
                       min_parameters, max_parameters);
  return "";
}

FfnExpression mutate(const FfnExpression& expr, std::mt19937_64& rng) {
  FfnExpression out = expr;
  const int times = std::uniform_int_distribution<int>(1, 3)(rng);
  for (int i = 0; i < times; ++i) mutate_once(out.root(), rng);
  return out;
}

FfnExpression random_expression(int64_t depth, int64_t ratio, std::mt19937_64& rng, int tries) {
  const FfnExpression start = FfnExpression::standard(depth, ratio);
  for (int i = 0; i < tries; ++i) {
    FfnExpression e = mutate(start, rng);
    if (e.valid()) return e;
  }
  return start;
}

Architecture random_architecture(const SearchSpace& space, std::mt19937_64& rng, int tries) {
  std::uniform_int_distribution<int64_t> size(1, nn::kMaxStackDepth);
  for (int t = 0; t < tries; ++t) {
    Architecture a;
    for (int64_t i = 0; i < space.layers; ++i) {
      if (space.stage == 3) {
        a.layers.push_back(space.fixed.layers[i].with_size(size(rng), size(rng)));
      } else if (space.stage == 2) {
        const auto& kept = space.fixed.layers[i];
        a.layers.push_back(random_expression(kept.depth(), kept.ratio(), rng));
      } else {
        const int64_t d = size(rng), r = size(rng);
        a.layers.push_back(random_expression(d, r, rng));
      }
    }
    if (space.within_budget(a)) return a;
  }
  throw core::UserError(fmt::format(
      "no architecture within the FFN budget [{}, {}] parameters in {} draws; widen "
      "--min-params/--max-params",
      space.min_parameters, space.max_parameters, tries));
}

std::vector<double> architecture_features(const SearchSpace& space, const Architecture& a) {
  std::vector<double> f;
  const auto& acts = nn::expression_activations();
  const auto& binaries = nn::expression_binary_ops();
  for (const auto& e : a.layers) {
    for (int64_t d = 1; d <= nn::kMaxStackDepth; ++d) f.push_back(e.depth() == d);
    for (int64_t r = 1; r <= nn::kMaxWidthRatio; ++r) f.push_back(e.ratio() == r);
    std::vector<double> counts(acts.size() + binaries.size(), 0.0);
    std::vector<const ExprNode*> stack = {&e.root()};
    while (!stack.empty()) {
      const ExprNode* n = stack.back();
      stack.pop_back();
      if (n->kind == ExprNode::Kind::kUnary)
        counts[std::find(acts.begin(), acts.end(), n->op) - acts.begin()] += 1;
      if (n->kind == ExprNode::Kind::kBinary)
        counts[acts.size() + (std::find(binaries.begin(), binaries.end(), n->op) - binaries.begin())] += 1;
      for (const auto& arg : n->args) stack.push_back(&arg);
    }
    f.insert(f.end(), counts.begin(), counts.end());
    f.push_back(static_cast<double>(e.root().height()) / nn::kMaxExpressionHeight);
  }
  f.push_back(space.max_parameters > 0
                  ? static_cast<double>(space.parameters(a)) / space.max_parameters
                  : 0.0);
  return f;
}

}  // namespace slimformer::methods
