#include "slimformer/nn/norm.h"

namespace slimformer::nn {

NormImpl::NormImpl(const NormOptions& options) : options_(options) {
  TORCH_CHECK(options.kind == "layer_norm" || options.kind == "rms_norm", "norm: unknown kind ",
              options.kind, " (expected layer_norm or rms_norm)");
  weight = register_parameter("weight", torch::ones({options.dim}));
  if (options.kind == "layer_norm") bias = register_parameter("bias", torch::zeros({options.dim}));
}

void NormImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  weight.fill_(1.0);
  if (bias.defined()) bias.zero_();
}

torch::Tensor NormImpl::forward(const torch::Tensor& x) {
  if (options_.kind == "layer_norm")
    return torch::layer_norm(x, {options_.dim}, weight, bias, options_.eps);
  // RMSNorm: x / sqrt(mean(x^2) + eps) * weight, no centring and no bias.
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + options_.eps) * weight;
}

}  // namespace slimformer::nn
