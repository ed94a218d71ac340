#include "slimformer/methods/search/supernet.h"

#include <fmt/format.h>

#include "slimformer/core/error.h"
#include "slimformer/nn/expression_feed_forward.h"
#include "slimformer/nn/feed_forward.h"
#include "slimformer/nn/sublayer.h"

namespace slimformer::methods {

namespace {

void copy_slice(torch::Tensor& target, const torch::Tensor& source, int64_t rows, int64_t cols) {
  torch::NoGradGuard no_grad;
  if (!target.defined() || !source.defined()) return;
  if (target.dim() == 1)
    target.narrow(0, 0, rows).copy_(source.narrow(0, 0, rows));
  else
    target.narrow(0, 0, rows).narrow(1, 0, cols).copy_(source.narrow(0, 0, rows).narrow(1, 0, cols));
}

void copy_linear(nn::LinearImpl& target, const nn::LinearImpl& source) {
  const int64_t rows = std::min(target.weight.size(0), source.weight.size(0));
  const int64_t cols = std::min(target.weight.size(1), source.weight.size(1));
  auto w = target.weight;
  copy_slice(w, source.weight, rows, cols);
  auto b = target.bias;
  copy_slice(b, source.bias, rows, 0);
}

nn::ExpressionFeedForwardImpl& expression_block(nn::BlockImpl& block, const std::string& where) {
  auto* e = dynamic_cast<nn::ExpressionFeedForwardImpl*>(&block);
  if (!e)
    throw core::UserError(
        fmt::format("{} holds a {} block, not a searched FFN (ffn_expression)", where, block.kind()));
  return *e;
}

}  // namespace

std::vector<std::string> searched_ffn_paths(models::ModelTree& model, const std::string& name) {
  if (model.config().model_type != "encoder")
    throw core::UserError(fmt::format("{} is a {} model; the FFN search works on encoders", name,
                                      model.config().model_type));
  std::vector<std::string> paths;
  for (int64_t i = 0; i < model.config().encoder_layers; ++i) {
    const std::string path = fmt::format("encoder.layers.{}.ffn", i);
    if (model.sublayer(path)->removed())
      throw core::UserError(fmt::format("{}: {} was removed; the FFN search needs every layer's FFN",
                                        name, path));
    paths.push_back(path);
  }
  return paths;
}

void inherit_ffn_weights(nn::BlockImpl& target, const nn::BlockImpl& source) {
  auto& t = expression_block(target, "the target");
  if (const auto* ffn = dynamic_cast<const nn::FeedForwardImpl*>(&source)) {
    copy_linear(*t.subs[0]->wb1, *ffn->fc1);
    copy_linear(*t.subs[0]->wb2, *ffn->fc2);
    return;
  }
  const auto* s = dynamic_cast<const nn::ExpressionFeedForwardImpl*>(&source);
  if (!s) throw core::UserError(fmt::format("cannot inherit FFN weights from a {} block", source.kind()));
  if (t.inner_width() > s->inner_width())
    throw core::UserError(fmt::format("cannot inherit a width {} FFN from a width {} one",
                                      t.inner_width(), s->inner_width()));
  const int64_t subs = std::min(t.depth(), s->depth());
  for (int64_t j = 0; j < subs; ++j) {
    auto to = t.subs[j];
    const auto from = s->subs[j];
    copy_linear(*to->wb1, *from->wb1);
    copy_linear(*to->wb2, *from->wb2);
    if (j > 0) {
      torch::NoGradGuard no_grad;
      to->norm->weight.copy_(from->norm->weight);
      if (to->norm->bias.defined()) to->norm->bias.copy_(from->norm->bias);
    }
  }
}

void apply_architecture(models::ModelTree& model, const Architecture& architecture,
                        models::ModelTree& source) {
  const auto paths = searched_ffn_paths(model, "the model");
  if (architecture.layers.size() != paths.size())
    throw core::UserError(fmt::format("the architecture has {} layers, the model {}",
                                      architecture.layers.size(), paths.size()));
  for (size_t i = 0; i < paths.size(); ++i) {
    // Keep the source block alive across the replacement when source is the model itself.
    const auto from = source.sublayer(paths[i])->block();
    auto block = model.replace(paths[i], {"ffn_expression",
                                          {{"expression", architecture.layers[i].to_string()}}});
    inherit_ffn_weights(*block, *from);
  }
}

Architecture architecture_of(models::ModelTree& model) {
  Architecture a;
  for (const auto& path : searched_ffn_paths(model, "the model"))
    a.layers.push_back(expression_block(*model.sublayer(path)->block(), path).options().expression);
  return a;
}

void set_active_sizes(models::ModelTree& model, const Architecture& sizes) {
  const auto paths = searched_ffn_paths(model, "the model");
  for (size_t i = 0; i < paths.size(); ++i) {
    auto& block = expression_block(*model.sublayer(paths[i])->block(), paths[i]);
    const auto& e = sizes.layers.at(i);
    block.set_active(e.depth(), nn::inner_width(block.options().embed_dim, e.ratio()));
  }
}

}  // namespace slimformer::methods
