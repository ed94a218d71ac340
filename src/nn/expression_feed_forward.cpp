#include "slimformer/nn/expression_feed_forward.h"

#include <fmt/format.h>

#include <stdexcept>

#include "slimformer/nn/feed_forward.h"

namespace slimformer::nn {

torch::Tensor apply_expression_binary(const torch::Tensor& a, const torch::Tensor& b,
                                      const std::string& name) {
  const int64_t width = std::min(a.size(-1), b.size(-1));
  const torch::Tensor x = a.size(-1) == width ? a : a.narrow(-1, 0, width);
  const torch::Tensor y = b.size(-1) == width ? b : b.narrow(-1, 0, width);
  if (name == "add") return x + y;
  if (name == "mul") return x * y;
  if (name == "max") return torch::maximum(x, y);
  throw std::invalid_argument("unknown expression operation " + name);
}

ExpressionSubNetworkImpl::ExpressionSubNetworkImpl(int64_t embed_dim, int64_t inner, bool bias,
                                                   bool with_norm, double norm_eps) {
  // The norm first, so that initialization order follows the computation.
  if (with_norm) norm = register_module("norm", Norm(NormOptions{embed_dim, "layer_norm", norm_eps}));
  wb1 = register_module("wb1", Linear(LinearOptions(embed_dim, inner).bias(bias)));
  wb2 = register_module("wb2", Linear(LinearOptions(inner, embed_dim).bias(bias)));
}

ExpressionFeedForwardImpl::ExpressionFeedForwardImpl(const ExpressionFeedForwardOptions& options)
    : options_(options) {
  if (const auto rule = options.expression.violation(); !rule.empty())
    throw std::invalid_argument(
        fmt::format("expression {}: {}", options.expression.to_string(), rule));
  sub_list_ = register_module("sub", torch::nn::ModuleList());
  for (int64_t j = 0; j < depth(); ++j) {
    subs.emplace_back(options.embed_dim, inner_width(), options.bias, j > 0, options.norm_eps);
    sub_list_->push_back(subs.back());
  }
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout));
}

int64_t ExpressionFeedForwardImpl::inner_width() const {
  return nn::inner_width(options_.embed_dim, options_.expression.ratio());
}

BlockSpec ExpressionFeedForwardImpl::spec() const {
  return {"ffn_expression",
          {{"expression", options_.expression.to_string()},
           {"bias", options_.bias},
           {"norm_eps", options_.norm_eps}}};
}

void ExpressionFeedForwardImpl::set_active(int64_t depth, int64_t width) {
  if (depth < 0 || depth > this->depth() || width < 0 || width > inner_width())
    throw std::invalid_argument(fmt::format(
        "active size {} x {} exceeds the block's {} x {}", depth, width, this->depth(),
        inner_width()));
  active_depth_ = depth == this->depth() ? 0 : depth;
  active_width_ = width == inner_width() ? 0 : width;
}

torch::Tensor ExpressionFeedForwardImpl::project(const torch::Tensor& x, size_t sub,
                                                 bool input_projection) {
  auto& linear = input_projection ? subs[sub]->wb1 : subs[sub]->wb2;
  if (active_width_ == 0) return linear(input_projection ? x : dropout_(x));
  // Weight sharing: the first active_width_ inner units.
  if (input_projection)
    return dense_linear(x, linear->weight.narrow(0, 0, active_width_),
                        linear->bias.defined() ? linear->bias.narrow(0, 0, active_width_)
                                               : torch::Tensor());
  return dense_linear(dropout_(x), linear->weight.narrow(1, 0, active_width_), linear->bias);
}

torch::Tensor ExpressionFeedForwardImpl::evaluate(const ExprNode& node, const torch::Tensor& x,
                                                  size_t sub) {
  switch (node.kind) {
    case ExprNode::Kind::kInput:
      return x;
    case ExprNode::Kind::kUnary:
      return activate(evaluate(node.args[0], x, sub), node.op);
    case ExprNode::Kind::kBinary:
      return apply_expression_binary(evaluate(node.args[0], x, sub),
                                     evaluate(node.args[1], x, sub), node.op);
    case ExprNode::Kind::kLinear:
      return project(evaluate(node.args[0], x, sub), sub, node.args[1].op == "wb1");
    case ExprNode::Kind::kProjection:
      break;
  }
  throw std::logic_error("a projection is evaluated only as a linear's argument");
}

torch::Tensor ExpressionFeedForwardImpl::forward(const torch::Tensor& x,
                                                 const BlockContext& /*context*/) {
  const int64_t count = active_depth_ ? active_depth_ : depth();
  torch::Tensor total = evaluate(options_.expression.root(), x, 0);
  if (count == 1) return total;
  torch::Tensor stream = x + total;
  for (int64_t j = 1; j < count; ++j) {
    torch::Tensor u = evaluate(options_.expression.root(), subs[j]->norm(stream), j);
    total = total + u;
    if (j + 1 < count) stream = stream + u;
  }
  return total;
}

}  // namespace slimformer::nn
