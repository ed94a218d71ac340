// The linear layer every block and head uses: y = x W^T + b. It owns its weight storage, so a
// block never changes when the storage does (masks, sparse formats and kernels go here, behind
// forward()). Dense by default, where it computes exactly what torch::nn::Linear computes.
// Parameter names are torch::nn::Linear's ("weight" [out, in], "bias" [out]).
#pragma once

#include <torch/torch.h>

#include "slimformer/kernels/sparse_matmul.h"
#include "slimformer/nn/init.h"

namespace slimformer::nn {

struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(bool, bias) = true;
};

// x W^T + b (b may be undefined) with dense weights, the computation behind Linear. Without
// autograd, one row is a matrix-vector product and a few rows the few-row kernel
// (kernels/dense_rows.h): neither copies the weights into packed panels as a matrix product does.
torch::Tensor dense_linear(const torch::Tensor& x, const torch::Tensor& weight,
                           const torch::Tensor& bias);

// x W^T + b the fastest way the weight allows: the dense product, or, without autograd, the
// sparse kernel (kernels/sparse_matmul.h) when the weight's zeros pass the crossover measured for
// the batch's number of rows. What it knows of a weight (its zero fraction, its sparse copy) is
// built on first use and rebuilt when the weight changes, in place or replaced.
class WeightProduct {
 public:
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& weight,
                        const torch::Tensor& bias);
  // The zero fraction of the weight last multiplied without autograd (0 before).
  double sparsity() const { return sparsity_; }

 private:
  void inspect(const torch::Tensor& weight);
  const void* data_ = nullptr;
  int64_t version_ = -1;
  double sparsity_ = 0.0;
  std::shared_ptr<const kernels::CsrMatrix> sparse_;
};

class LinearImpl : public torch::nn::Cloneable<LinearImpl>, public Initializable {
 public:
  LinearImpl(int64_t in_features, int64_t out_features)
      : LinearImpl(LinearOptions(in_features, out_features)) {}
  explicit LinearImpl(const LinearOptions& options);

  void reset() override;
  // Xavier-uniform weight, zero bias: the project's initialization of every projection.
  void reset_parameters() override;
  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& stream) const override;

  const LinearOptions& options() const { return options_; }
  torch::Tensor weight, bias;  // bias undefined without one

 private:
  LinearOptions options_;
  WeightProduct product_;
};
TORCH_MODULE(Linear);

// Linear layers that read the same input, computed as one matrix product when no gradient is
// wanted (attention's query, key and value projections): one larger product costs less than
// several small ones, most of all one token at a time. The joined weight is built on first use
// and rebuilt whenever a part's weight or bias changes (in place or replaced).
class JoinedLinears {
 public:
  // Each part's output, as views into one product (or the parts' own outputs under autograd).
  std::vector<torch::Tensor> forward(const std::vector<LinearImpl*>& parts, const torch::Tensor& x);

 private:
  // What the joined weight was built from: every part's tensors' storage and version.
  std::vector<std::pair<const void*, int64_t>> stamps(const std::vector<LinearImpl*>& parts) const;
  torch::Tensor weight_, bias_;
  std::vector<std::pair<const void*, int64_t>> built_from_;
  WeightProduct product_;
};

}  // namespace slimformer::nn
