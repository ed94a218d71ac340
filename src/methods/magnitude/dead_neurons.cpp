#include "slimformer/methods/magnitude/dead_neurons.h"

#include "slimformer/nn/feed_forward.h"

namespace slimformer::methods {

namespace {

torch::Tensor zero_rows(const torch::Tensor& w) { return w.eq(0).all(1); }

// Keeps rows `kept` of a linear layer's weight (and bias), or columns with `columns`.
void copy_kept(nn::LinearImpl& from, nn::LinearImpl& to, const torch::Tensor& kept, bool columns) {
  to.weight.copy_(from.weight.index_select(columns ? 1 : 0, kept));
  if (to.bias.defined()) to.bias.copy_(columns ? from.bias : from.bias.index_select(0, kept));
}

}  // namespace

std::vector<RemovedNeurons> remove_dead_neurons(models::ModelTree& model) {
  torch::NoGradGuard no_grad;
  std::vector<RemovedNeurons> removed;
  for (auto& sublayer : model.sublayers()) {
    if (sublayer->removed()) continue;
    auto ffn = std::dynamic_pointer_cast<nn::FeedForwardImpl>(sublayer->block());
    if (!ffn) continue;
    const auto& o = ffn->options();
    auto& fc1 = *ffn->fc1;
    auto& fc2 = *ffn->fc2;
    // The hidden value of a neuron whose input rows are all zero: act(b1) (* b3 when gated).
    auto constant_input = zero_rows(fc1.weight);
    if (o.gated) constant_input &= zero_rows(ffn->fc3->weight);
    auto zeros = torch::zeros({o.hidden_dim}, fc1.weight.options());
    auto constant_value =
        nn::activate(fc1.bias.defined() ? fc1.bias : zeros, o.activation);
    if (o.gated) constant_value = constant_value * (ffn->fc3->bias.defined() ? ffn->fc3->bias : zeros);
    // Gated with a zero gate or up row and no biases: act(0) * (...) or act(...) * 0 is zero.
    auto silent = fc2.weight.eq(0).all(0);
    if (o.gated && !o.bias)
      silent |= zero_rows(fc1.weight) | zero_rows(ffn->fc3->weight);
    // A constant that is not zero can only go into the output bias.
    auto foldable = constant_input & (constant_value.eq(0) | torch::tensor(fc2.bias.defined()));
    auto dead = silent | foldable;
    const int64_t n_dead = dead.sum().item<int64_t>();
    if (n_dead == 0 || n_dead == o.hidden_dim) continue;  // an empty block stays as it is
    auto kept = (~dead).nonzero().reshape(-1);
    auto folded = foldable & ~silent;
    torch::Tensor extra_bias;
    if (fc2.bias.defined())
      extra_bias = torch::mv(fc2.weight, constant_value * folded.to(constant_value.dtype()));
    auto block = model.replace(sublayer->path(), {"ffn", {{"hidden_dim", o.hidden_dim - n_dead}}});
    auto narrow = std::dynamic_pointer_cast<nn::FeedForwardImpl>(block);
    copy_kept(fc1, *narrow->fc1, kept, false);
    if (o.gated) copy_kept(*ffn->fc3, *narrow->fc3, kept, false);
    copy_kept(fc2, *narrow->fc2, kept, true);
    if (extra_bias.defined()) narrow->fc2->bias.add_(extra_bias);
    removed.push_back({sublayer->path(), o.hidden_dim, o.hidden_dim - n_dead});
  }
  return removed;
}

}  // namespace slimformer::methods
