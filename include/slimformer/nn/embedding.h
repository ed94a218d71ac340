// The token (and position, segment) table every model uses. It owns its storage like nn::Linear,
// so pruned or sparse tables change nothing in the models, and a tied output projection reads the
// same storage through project(). Parameter name "weight" [num_embeddings, dim].
#pragma once

#include <torch/torch.h>

#include "slimformer/nn/init.h"
#include "slimformer/nn/linear.h"

namespace slimformer::nn {

struct EmbeddingOptions {
  EmbeddingOptions(int64_t num_embeddings, int64_t dim)
      : num_embeddings_(num_embeddings), dim_(dim) {}
  TORCH_ARG(int64_t, num_embeddings);
  TORCH_ARG(int64_t, dim);
  // The row zeroed at initialization (the padding token); -1: none.
  TORCH_ARG(int64_t, padding_idx) = -1;
  // Initialization: N(0, init_std^2), or Xavier-uniform when init_std is 0.
  TORCH_ARG(double, init_std) = 0.0;
};

class EmbeddingImpl : public torch::nn::Cloneable<EmbeddingImpl>, public Initializable {
 public:
  explicit EmbeddingImpl(const EmbeddingOptions& options);

  void reset() override;
  void reset_parameters() override;
  // Rows of the table for ids of any shape: [..., dim].
  torch::Tensor forward(const torch::Tensor& ids);
  // x W^T: the tied output projection [..., dim] -> [..., num_embeddings].
  torch::Tensor project(const torch::Tensor& x);
  void pretty_print(std::ostream& stream) const override;

  const EmbeddingOptions& options() const { return options_; }
  torch::Tensor weight;

 private:
  EmbeddingOptions options_;
  WeightProduct product_;
};
TORCH_MODULE(Embedding);

}  // namespace slimformer::nn
