// The linear layer every block and head uses: y = x W^T + b. It owns its weight storage, so a
// block never changes when the storage does (masks, sparse formats and kernels go here, behind
// forward()). Dense by default, where it computes exactly what torch::nn::Linear computes.
// Parameter names are torch::nn::Linear's ("weight" [out, in], "bias" [out]).
#pragma once

#include <torch/torch.h>

#include "slimformer/nn/init.h"

namespace slimformer::nn {

struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(bool, bias) = true;
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
};
TORCH_MODULE(Linear);

}  // namespace slimformer::nn
