#include "slimformer/nn/linear.h"

namespace slimformer::nn {

LinearImpl::LinearImpl(const LinearOptions& options) : options_(options) { reset(); }

void LinearImpl::reset() {
  weight =
      register_parameter("weight", torch::empty({options_.out_features(), options_.in_features()}));
  if (options_.bias())
    bias = register_parameter("bias", torch::empty({options_.out_features()}));
  else
    bias = torch::Tensor();
  reset_parameters();
}

void LinearImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_uniform_(weight);
  if (bias.defined()) bias.zero_();
}

torch::Tensor LinearImpl::forward(const torch::Tensor& x) { return torch::linear(x, weight, bias); }

void LinearImpl::pretty_print(std::ostream& stream) const {
  stream << "slimformer::nn::Linear(in_features=" << options_.in_features()
         << ", out_features=" << options_.out_features() << ", bias=" << options_.bias() << ")";
}

}  // namespace slimformer::nn
