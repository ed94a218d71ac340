// The language of searched feed-forward networks (EfficientBERT, Dong et al. 2021): a layer's FFN
// is an expression over the input x and two projections, the input projection wb1 (width H to
// an inner width k) and the output projection wb2 (k to H), e.g.
//   linear2_2(gelu(linear2_2(max(x,tanh(x)),wb1)),wb2)
// `linear<d>_<r>(a, wb)` multiplies a by one of the projections; both linears of an expression
// carry the same d and r: the inner width is k = H / r (r in 1-4), and the FFN is d such
// sub-networks stacked (d in 1-4), each with its own weights. Unary nodes are activations
// (gelu, relu, tanh, sigmoid, leaky_relu, elu, swish), binary ones add, mul and max, which cut
// operands of different widths to the smaller (as the method's code does).
//
// The rules of the method's code decide which expressions are valid (`check`): x appears; wb1
// and wb2 appear once each, wb1 first, each as a linear's second argument; no activation
// directly inside another, no linear directly inside another; a binary node's two operands
// differ; the tree's height (leaves 0) lies in [3, 7]; and widths agree: wb1 reads width H, wb2
// reads width k, the result has width H.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace slimformer::nn {

struct ExprNode {
  enum class Kind { kInput, kProjection, kLinear, kUnary, kBinary };
  Kind kind = Kind::kInput;
  std::string op;   // activation or binary op name; "wb1"/"wb2" for a projection leaf
  std::vector<ExprNode> args;

  int64_t height() const;
  bool operator==(const ExprNode& other) const = default;
};

class FfnExpression {
 public:
  FfnExpression() = default;
  // Reads an expression; a std::invalid_argument naming the character where it goes wrong.
  static FfnExpression parse(const std::string& text);
  // The standard FFN, linear<d>_<r>(<activation>(linear<d>_<r>(x,wb1)),wb2).
  static FfnExpression standard(int64_t depth, int64_t ratio, const std::string& activation = "gelu");

  // The canonical text, which parses back to this expression.
  std::string to_string() const;
  // The rule the expression breaks, or "" when it is valid.
  std::string violation() const;
  bool valid() const { return violation().empty(); }

  const ExprNode& root() const { return root_; }
  ExprNode& root() { return root_; }
  int64_t depth() const { return depth_; }
  int64_t ratio() const { return ratio_; }
  // The same expression with another depth and width ratio.
  FfnExpression with_size(int64_t depth, int64_t ratio) const;
  bool operator==(const FfnExpression& other) const = default;

 private:
  ExprNode root_;
  int64_t depth_ = 1, ratio_ = 1;
};

inline constexpr int64_t kMinExpressionHeight = 3, kMaxExpressionHeight = 7;
inline constexpr int64_t kMaxStackDepth = 4, kMaxWidthRatio = 4;

const std::vector<std::string>& expression_activations();
const std::vector<std::string>& expression_binary_ops();

// The inner width k at model width H: H / ratio (as the method's code, int(H / r)).
int64_t inner_width(int64_t model_width, int64_t ratio);
// Parameters of the compiled block at model width H: per stacked sub-network the two
// projections (2 H k weights, k + H biases when `bias`), and a norm (2 H) before every
// sub-network but the first, whose norm is the sublayer's.
int64_t expression_parameters(const FfnExpression& expr, int64_t model_width, bool bias = true);

}  // namespace slimformer::nn
