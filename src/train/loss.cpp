#include "slimformer/train/loss.h"

namespace slimformer::train {

TokenLoss label_smoothed_cross_entropy(const torch::Tensor& logits, const torch::Tensor& target,
                                       double epsilon, int64_t pad) {
  torch::Tensor log_probs = torch::log_softmax(logits.to(torch::kFloat32), -1);
  torch::Tensor keep = target.ne(pad);
  torch::Tensor nll = -log_probs.gather(-1, target.unsqueeze(-1)).squeeze(-1);
  torch::Tensor smooth = -log_probs.mean(-1);
  torch::Tensor loss = (1.0 - epsilon) * nll + epsilon * smooth;
  TokenLoss out;
  out.loss_sum = loss.masked_select(keep).sum();
  out.nll_sum = nll.masked_select(keep).sum().detach();
  out.tokens = keep.sum().item<int64_t>();
  return out;
}

}  // namespace slimformer::train
