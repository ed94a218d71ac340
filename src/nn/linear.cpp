#include "slimformer/nn/linear.h"

#include "slimformer/kernels/dense_rows.h"

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

torch::Tensor dense_linear(const torch::Tensor& x, const torch::Tensor& weight,
                           const torch::Tensor& bias) {
  // One row without autograd (one sequence decoded a token at a time): a matrix-vector product
  // reads the weight once, where a matrix product would first copy it into packed panels.
  if (torch::GradMode::is_enabled() || x.dim() < 1) return torch::linear(x, weight, bias);
  const int64_t rows = x.numel() / std::max<int64_t>(x.size(-1), 1);
  auto sizes = x.sizes().vec();
  sizes.back() = weight.size(0);
  if (rows == 1) {
    torch::Tensor y = bias.defined() ? torch::addmv(bias, weight, x.reshape(-1))
                                     : torch::mv(weight, x.reshape(-1));
    return y.view(sizes);
  }
  // A few rows (beams of one sentence): each weight read once, none copied into packed panels.
  if (kernels::few_rows_pay(rows, x.size(-1)) && x.device().is_cpu() &&
      x.scalar_type() == torch::kFloat32 && weight.scalar_type() == torch::kFloat32 &&
      (!bias.defined() || bias.scalar_type() == torch::kFloat32))
    return kernels::few_rows_linear(x.reshape({rows, x.size(-1)}), weight, bias).view(sizes);
  return torch::linear(x, weight, bias);
}

void WeightProduct::inspect(const torch::Tensor& weight) {
  const void* data = weight.data_ptr();
  const int64_t version = weight.is_inference() ? -1 : int64_t(weight._version());
  if (data == data_ && version == version_) return;
  data_ = data;
  version_ = version;
  sparse_.reset();
  sparsity_ = weight.numel() ? weight.eq(0).sum().item<double>() / double(weight.numel()) : 0.0;
}

torch::Tensor WeightProduct::forward(const torch::Tensor& x, const torch::Tensor& weight,
                                     const torch::Tensor& bias) {
  if (torch::GradMode::is_enabled() || !weight.device().is_cpu() ||
      weight.scalar_type() != torch::kFloat32 || x.scalar_type() != torch::kFloat32)
    return dense_linear(x, weight, bias);
  inspect(weight);
  if (kernels::sparse_pays(sparsity_, x.numel() / std::max<int64_t>(x.size(-1), 1))) {
    if (!sparse_) {                                    // built on the first product that takes it
      c10::InferenceMode ordinary(/*enabled=*/false);  // kept across calls: ordinary tensors
      sparse_ = std::make_shared<const kernels::CsrMatrix>(kernels::CsrMatrix::from_dense(weight));
    }
    return kernels::sparse_linear(x, *sparse_, bias);
  }
  return dense_linear(x, weight, bias);
}

torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
  return product_.forward(x, weight, bias);
}

std::vector<std::pair<const void*, int64_t>> JoinedLinears::stamps(
    const std::vector<LinearImpl*>& parts) const {
  std::vector<std::pair<const void*, int64_t>> out;
  for (const auto* part : parts)
    for (const auto* t : {&part->weight, &part->bias})
      out.emplace_back(t->defined() ? t->data_ptr() : nullptr,
                       t->defined() ? int64_t(t->_version()) : -1);
  return out;
}

std::vector<torch::Tensor> JoinedLinears::forward(const std::vector<LinearImpl*>& parts,
                                                  const torch::Tensor& x) {
  std::vector<torch::Tensor> out;
  if (torch::GradMode::is_enabled()) {
    for (auto* part : parts) out.push_back(part->forward(x));
    return out;
  }
  auto stamp = stamps(parts);
  if (!weight_.defined() || stamp != built_from_) {
    std::vector<torch::Tensor> weights, biases;
    bool any_bias = false;
    for (auto* part : parts) any_bias |= part->bias.defined();
    for (auto* part : parts) {
      weights.push_back(part->weight);
      if (any_bias)
        biases.push_back(part->bias.defined()
                             ? part->bias
                             : torch::zeros({part->weight.size(0)}, part->weight.options()));
    }
    c10::InferenceMode ordinary(/*enabled=*/false);  // kept across calls: an ordinary tensor
    weight_ = torch::cat(weights, 0);
    bias_ = any_bias ? torch::cat(biases, 0) : torch::Tensor();
    built_from_ = std::move(stamp);
  }
  torch::Tensor joined = product_.forward(x, weight_, bias_);
  int64_t offset = 0;
  for (auto* part : parts) {
    const int64_t width = part->weight.size(0);
    out.push_back(joined.narrow(-1, offset, width));
    offset += width;
  }
  return out;
}

void LinearImpl::pretty_print(std::ostream& stream) const {
  stream << "slimformer::nn::Linear(in_features=" << options_.in_features()
         << ", out_features=" << options_.out_features() << ", bias=" << options_.bias() << ")";
}

}  // namespace slimformer::nn
