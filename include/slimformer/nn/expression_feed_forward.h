// A feed-forward block compiled from an FFN expression (nn/ffn_expression.h), block kind
// "ffn_expression"; spec options: expression, bias, norm_eps. The expression linear<d>_<r>(...)
// stacks d sub-networks, each with its own input projection wb1 (H to k = H / r) and output
// projection wb2 (k to H); sub-network j > 0 reads the running sum of the earlier ones through a
// norm of its own, as the method stacks its FFNs with residual and norm each:
//   h_0 = input, u_j = f_j(j ? norm_j(h_j) : h_j), h_{j+1} = h_j + u_j, output = sum_j u_j,
// so that the sublayer adds the sum to its residual stream. At depth 1 the standard FFN's
// expression, linear1_1(gelu(linear1_1(x,wb1)),wb2), computes what an "ffn" block of inner width
// H computes with the same weights.
//
// For weight sharing (a super-network whose every sub-architecture is trained), `set_active`
// runs only the first d sub-networks and the first k inner units of each, slicing the weights;
// the spec still describes the whole block.
#pragma once

#include <string>
#include <vector>

#include "slimformer/nn/block.h"
#include "slimformer/nn/ffn_expression.h"
#include "slimformer/nn/linear.h"
#include "slimformer/nn/norm.h"

namespace slimformer::nn {

// One stacked sub-network: its projections and, after the first, its norm.
class ExpressionSubNetworkImpl : public torch::nn::Module {
 public:
  ExpressionSubNetworkImpl(int64_t embed_dim, int64_t inner, bool bias, bool with_norm,
                           double norm_eps);
  Linear wb1{nullptr}, wb2{nullptr};  // H to k, k to H
  Norm norm{nullptr};                 // null in the first sub-network
};
TORCH_MODULE(ExpressionSubNetwork);

struct ExpressionFeedForwardOptions {
  int64_t embed_dim = 512;
  FfnExpression expression = FfnExpression::standard(1, 1);
  bool bias = true;
  double norm_eps = 1e-5;  // the norms of sub-networks after the first
  double dropout = 0.0;    // on the output projection's input
};

class ExpressionFeedForwardImpl : public BlockImpl {
 public:
  explicit ExpressionFeedForwardImpl(const ExpressionFeedForwardOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const BlockContext& context) override;
  BlockSpec spec() const override;
  const ExpressionFeedForwardOptions& options() const { return options_; }
  int64_t depth() const { return options_.expression.depth(); }
  int64_t inner_width() const;

  // Runs only the first `depth` sub-networks with the first `width` inner units (weight
  // sharing); 0 restores the whole block.
  void set_active(int64_t depth, int64_t width);

  // The sub-networks, as parameters "sub.<j>.wb1.weight", "sub.<j>.norm.weight", ...
  std::vector<ExpressionSubNetwork> subs;

 private:
  torch::Tensor evaluate(const ExprNode& node, const torch::Tensor& x, size_t sub);
  torch::Tensor project(const torch::Tensor& x, size_t sub, bool input_projection);

  ExpressionFeedForwardOptions options_;
  torch::nn::ModuleList sub_list_;
  torch::nn::Dropout dropout_{nullptr};
  int64_t active_depth_ = 0, active_width_ = 0;
};
TORCH_MODULE(ExpressionFeedForward);

// add, mul or max of two tensors, cut to the smaller last dimension.
torch::Tensor apply_expression_binary(const torch::Tensor& a, const torch::Tensor& b,
                                      const std::string& name);

}  // namespace slimformer::nn
