#include "slimformer/nn/ffn_expression.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>

namespace slimformer::nn {

namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A recursive-descent reader of the expression grammar:
//   node := "x" | "wb1" | "wb2" | name "(" node ("," node)* ")"
class Reader {
 public:
  explicit Reader(const std::string& text) : text_(text) {}

  FfnExpression read() {
    FfnExpression expr;
    expr.root() = node();
    skip_space();
    if (at_ < text_.size()) fail("unexpected text after the expression");
    if (!size_) fail("no linear<d>_<r> in the expression");
    return expr.with_size(size_->first, size_->second);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument(
        fmt::format("expression '{}', character {}: {}", text_, at_ + 1, what));
  }
  void skip_space() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }
  std::string name() {
    skip_space();
    const size_t start = at_;
    while (at_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[at_])) || text_[at_] == '_'))
      ++at_;
    if (start == at_) fail("expected a name");
    return text_.substr(start, at_ - start);
  }
  void expect(char c) {
    skip_space();
    if (at_ >= text_.size() || text_[at_] != c) fail(fmt::format("expected '{}'", c));
    ++at_;
  }
  // The size of "linear<d>_<r>"; none for any other name.
  std::optional<std::pair<int64_t, int64_t>> linear_size(const std::string& op) const {
    if (op.size() != 9 || op.rfind("linear", 0) != 0 || op[7] != '_') return std::nullopt;
    const int64_t d = op[6] - '0', r = op[8] - '0';
    if (d < 1 || d > kMaxStackDepth || r < 1 || r > kMaxWidthRatio) return std::nullopt;
    return std::make_pair(d, r);
  }
  std::vector<ExprNode> arguments(size_t count, const std::string& op) {
    expect('(');
    std::vector<ExprNode> args;
    for (size_t i = 0; i < count; ++i) {
      if (i) expect(',');
      args.push_back(node());
    }
    skip_space();
    if (at_ < text_.size() && text_[at_] == ',')
      fail(fmt::format("{} takes {} argument{}", op, count, count == 1 ? "" : "s"));
    expect(')');
    return args;
  }
  ExprNode node() {
    const size_t start = at_;
    const std::string op = name();
    ExprNode n;
    n.op = op;
    if (op == "x") {
      n.kind = ExprNode::Kind::kInput;
    } else if (op == "wb1" || op == "wb2") {
      n.kind = ExprNode::Kind::kProjection;
    } else if (auto size = linear_size(op)) {
      if (size_ && *size_ != *size) {
        at_ = start;
        fail(fmt::format("both linears must have the same depth and ratio (linear{}_{} before)",
                         size_->first, size_->second));
      }
      size_ = size;
      n.kind = ExprNode::Kind::kLinear;
      n.op = "linear";
      n.args = arguments(2, op);
      if (n.args[1].kind != ExprNode::Kind::kProjection) fail("a linear's second argument is wb1 or wb2");
    } else if (contains(expression_activations(), op)) {
      n.kind = ExprNode::Kind::kUnary;
      n.args = arguments(1, op);
    } else if (contains(expression_binary_ops(), op)) {
      n.kind = ExprNode::Kind::kBinary;
      n.args = arguments(2, op);
    } else {
      at_ = start;
      fail(fmt::format(
          "unknown name '{}' (expected x, wb1, wb2, linear<d>_<r> with d and r in 1-4, an "
          "activation or add, mul, max)",
          op));
    }
    for (const auto& arg : n.args)
      if (arg.kind == ExprNode::Kind::kProjection && n.kind != ExprNode::Kind::kLinear)
        fail(fmt::format("{} may only be a linear's second argument", arg.op));
    if (n.kind == ExprNode::Kind::kLinear && n.args[0].kind == ExprNode::Kind::kProjection)
      fail("a linear's first argument cannot be a projection");
    return n;
  }

  const std::string& text_;
  size_t at_ = 0;
  std::optional<std::pair<int64_t, int64_t>> size_;
};

void print(const ExprNode& n, int64_t depth, int64_t ratio, std::string& out) {
  switch (n.kind) {
    case ExprNode::Kind::kInput:
    case ExprNode::Kind::kProjection:
      out += n.op;
      return;
    case ExprNode::Kind::kLinear:
      out += fmt::format("linear{}_{}", depth, ratio);
      break;
    default:
      out += n.op;
  }
  out += '(';
  for (size_t i = 0; i < n.args.size(); ++i) {
    if (i) out += ',';
    print(n.args[i], depth, ratio, out);
  }
  out += ')';
}

// What the rules count over the tree, in prefix order.
struct Census {
  int64_t inputs = 0;
  std::vector<std::string> projections;  // in prefix order
  std::string nesting;                   // the first nesting rule broken
};

void take_census(const ExprNode& n, Census& c) {
  if (n.kind == ExprNode::Kind::kInput) ++c.inputs;
  if (n.kind == ExprNode::Kind::kProjection) c.projections.push_back(n.op);
  if (c.nesting.empty()) {
    if (n.kind == ExprNode::Kind::kUnary && n.args[0].kind == ExprNode::Kind::kUnary)
      c.nesting = fmt::format("an activation directly inside another ({}({}(...)))", n.op,
                              n.args[0].op);
    else if (n.kind == ExprNode::Kind::kLinear && n.args[0].kind == ExprNode::Kind::kLinear)
      c.nesting = "a linear directly inside another";
    else if (n.kind == ExprNode::Kind::kBinary && n.args[0] == n.args[1])
      c.nesting = fmt::format("{} of two identical operands", n.op);
  }
  for (const auto& arg : n.args) take_census(arg, c);
}

// Widths as symbols, H (the model's) and k (the inner; k = H at ratio 1): a binary node cuts
// H and k to k, since k <= H for every ratio. A projection fed the wrong width is an error.
enum class Width { kModel, kInner };

std::string width_of(const ExprNode& n, bool inner_is_model, Width& out) {
  switch (n.kind) {
    case ExprNode::Kind::kInput:
      out = Width::kModel;
      return "";
    case ExprNode::Kind::kProjection:
      return "";
    case ExprNode::Kind::kUnary:
      return width_of(n.args[0], inner_is_model, out);
    case ExprNode::Kind::kBinary: {
      Width a, b;
      if (auto e = width_of(n.args[0], inner_is_model, a); !e.empty()) return e;
      if (auto e = width_of(n.args[1], inner_is_model, b); !e.empty()) return e;
      out = (a == Width::kInner || b == Width::kInner) ? Width::kInner : Width::kModel;
      return "";
    }
    case ExprNode::Kind::kLinear: {
      Width in;
      if (auto e = width_of(n.args[0], inner_is_model, in); !e.empty()) return e;
      const bool input_projection = n.args[1].op == "wb1";
      const Width wanted = input_projection ? Width::kModel : Width::kInner;
      if (in != wanted && !inner_is_model)
        return fmt::format("{} reads width {} but gets width {}", n.args[1].op,
                           wanted == Width::kModel ? "H" : "k", in == Width::kModel ? "H" : "k");
      out = input_projection ? Width::kInner : Width::kModel;
      return "";
    }
  }
  return "";
}

}  // namespace

int64_t ExprNode::height() const {
  int64_t h = 0;
  for (const auto& arg : args) h = std::max(h, arg.height() + 1);
  return h;
}

const std::vector<std::string>& expression_activations() {
  static const std::vector<std::string> names = {"gelu", "relu",       "tanh", "sigmoid",
                                                 "leaky_relu", "elu", "swish"};
  return names;
}

const std::vector<std::string>& expression_binary_ops() {
  static const std::vector<std::string> names = {"add", "mul", "max"};
  return names;
}

FfnExpression FfnExpression::parse(const std::string& text) { return Reader(text).read(); }

FfnExpression FfnExpression::standard(int64_t depth, int64_t ratio, const std::string& activation) {
  return parse(fmt::format("linear{0}_{1}({2}(linear{0}_{1}(x,wb1)),wb2)", depth, ratio, activation));
}

FfnExpression FfnExpression::with_size(int64_t depth, int64_t ratio) const {
  if (depth < 1 || depth > kMaxStackDepth || ratio < 1 || ratio > kMaxWidthRatio)
    throw std::invalid_argument(
        fmt::format("linear{}_{}: depth and ratio must lie in 1-4", depth, ratio));
  FfnExpression e = *this;
  e.depth_ = depth;
  e.ratio_ = ratio;
  return e;
}

std::string FfnExpression::to_string() const {
  std::string out;
  print(root_, depth_, ratio_, out);
  return out;
}

std::string FfnExpression::violation() const {
  Census c;
  take_census(root_, c);
  if (c.inputs == 0) return "x does not appear";
  const auto count = [&](const std::string& p) {
    return std::count(c.projections.begin(), c.projections.end(), p);
  };
  if (count("wb1") != 1 || count("wb2") != 1)
    return fmt::format("wb1 and wb2 must appear once each (wb1 {} times, wb2 {} times)",
                       count("wb1"), count("wb2"));
  if (c.projections.front() != "wb1") return "wb1 must come before wb2";
  if (!c.nesting.empty()) return c.nesting;
  const int64_t h = root_.height();
  if (h < kMinExpressionHeight || h > kMaxExpressionHeight)
    return fmt::format("height {} is outside [{}, {}]", h, kMinExpressionHeight,
                       kMaxExpressionHeight);
  Width out;
  if (auto e = width_of(root_, ratio_ == 1, out); !e.empty()) return e;
  if (out != Width::kModel && ratio_ != 1) return "the result has the inner width k, not H";
  return "";
}

int64_t inner_width(int64_t model_width, int64_t ratio) {
  return std::max<int64_t>(1, model_width / ratio);
}

int64_t expression_parameters(const FfnExpression& expr, int64_t model_width, bool bias) {
  const int64_t k = inner_width(model_width, expr.ratio());
  const int64_t per_sub = 2 * model_width * k + (bias ? k + model_width : 0);
  return expr.depth() * per_sub + (expr.depth() - 1) * 2 * model_width;
}

}  // namespace slimformer::nn
