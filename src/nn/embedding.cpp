#include "slimformer/nn/embedding.h"

#include "slimformer/nn/linear.h"

namespace slimformer::nn {

EmbeddingImpl::EmbeddingImpl(const EmbeddingOptions& options) : options_(options) { reset(); }

void EmbeddingImpl::reset() {
  weight = register_parameter("weight", torch::empty({options_.num_embeddings(), options_.dim()}));
  reset_parameters();
}

void EmbeddingImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  if (options_.init_std() > 0)
    weight.normal_(0.0, options_.init_std());
  else
    torch::nn::init::xavier_uniform_(weight);
  if (options_.padding_idx() >= 0) weight[options_.padding_idx()].zero_();
}

torch::Tensor EmbeddingImpl::forward(const torch::Tensor& ids) {
  return torch::embedding(weight, ids);
}

torch::Tensor EmbeddingImpl::project(const torch::Tensor& x) {
  return product_.forward(x, weight, torch::Tensor());
}

void EmbeddingImpl::pretty_print(std::ostream& stream) const {
  stream << "slimformer::nn::Embedding(num_embeddings=" << options_.num_embeddings()
         << ", dim=" << options_.dim() << ")";
}

}  // namespace slimformer::nn
