// Training losses.
#pragma once

#include <torch/torch.h>

namespace slimformer::train {

struct TokenLoss {
  torch::Tensor loss_sum;  // label-smoothed, summed over non-pad tokens (backpropagate this)
  torch::Tensor nll_sum;   // plain negative log-likelihood, summed (for reporting)
  int64_t tokens = 0;
};

// Cross entropy with label smoothing epsilon: (1 - eps) * nll + eps * mean over the vocabulary
// of -log p (Szegedy et al. 2016, as in fairseq). Positions whose target is `pad` are ignored.
TokenLoss label_smoothed_cross_entropy(const torch::Tensor& logits, const torch::Tensor& target,
                                       double epsilon, int64_t pad);

}  // namespace slimformer::train
