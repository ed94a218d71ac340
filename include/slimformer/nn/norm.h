// Normalization layers: LayerNorm (Ba et al. 2016) and RMSNorm (Zhang & Sennrich 2019), behind
// one module so that a sublayer or a stack holds either kind. Parameter names are LayerNorm's
// ("weight", "bias"), so checkpoints keep their keys whichever kind is used.
#pragma once

#include <torch/torch.h>

#include <string>

#include "slimformer/nn/init.h"

namespace slimformer::nn {

struct NormOptions {
  int64_t dim = 512;
  std::string kind = "layer_norm";  // layer_norm | rms_norm
  double eps = 1e-5;
};

class NormImpl : public torch::nn::Module, public Initializable {
 public:
  explicit NormImpl(const NormOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  // Unit scale, zero shift.
  void reset_parameters() override;
  const NormOptions& options() const { return options_; }

  torch::Tensor weight, bias;  // bias is undefined for rms_norm

 private:
  NormOptions options_;
};
TORCH_MODULE(Norm);

}  // namespace slimformer::nn
