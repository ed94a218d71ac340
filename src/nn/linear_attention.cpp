#include "slimformer/nn/linear_attention.h"

#include <algorithm>
#include <cmath>

#include "slimformer/nn/attention.h"

namespace slimformer::nn {

const std::vector<std::string>& feature_map_names() {
  static const std::vector<std::string> names = {"t2r", "elu", "rfa"};
  return names;
}

bool is_feature_map(const std::string& name) {
  const auto& names = feature_map_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

void RecurrentState::add(const torch::Tensor& key_features, const torch::Tensor& values) {
  // phi(k)^T [v | 1]: the sums and, in the last column, the normalizer, in one product.
  torch::Tensor sums =
      torch::matmul(key_features.transpose(-2, -1), torch::constant_pad_nd(values, {0, 1}, 1.0));
  if (empty())
    sums_ = sums;
  else
    sums_.add_(sums);
}

void RecurrentState::reorder(const torch::Tensor& order, Reorder scope) {
  if (empty() || (from_source_ && scope == Reorder::kWithinSource)) return;
  sums_ = sums_.index_select(0, order);
}

int64_t RecurrentState::bytes() const { return empty() ? 0 : int64_t(sums_.nbytes()); }

FeatureMapImpl::FeatureMapImpl(std::string name, int64_t kv_heads, int64_t head_dim,
                               int64_t feature_dim)
    : name_(std::move(name)), head_dim_(head_dim), feature_dim_(feature_dim) {
  TORCH_CHECK(is_feature_map(name_), "linear attention: unknown feature map ", name_);
  TORCH_CHECK(features() >= 1, "linear attention: feature_dim must be >= 1");
  if (name_ == "t2r") {
    weight = register_parameter("weight", torch::empty({kv_heads, features(), head_dim}));
    bias = register_parameter("bias", torch::empty({kv_heads, features()}));
  } else if (name_ == "rfa") {
    weight = register_buffer("random", torch::empty({kv_heads, features() / 2, head_dim}));
  }
  reset_parameters();
}

int64_t FeatureMapImpl::features() const {
  if (name_ == "elu") return head_dim_;
  if (name_ == "rfa") return 2 * (feature_dim_ / 2);
  return feature_dim_;
}

void FeatureMapImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  if (name_ == "t2r") {
    const double bound = 1.0 / std::sqrt(double(head_dim_));
    weight.uniform_(-bound, bound);
    bias.uniform_(-bound, bound);
  } else if (name_ == "rfa") {
    weight.normal_();
  }
}

torch::Tensor FeatureMapImpl::per_head(const torch::Tensor& t, int64_t x_dim,
                                       int64_t trailing) const {
  auto shape = t.sizes().vec();
  shape.insert(shape.begin() + 1, x_dim - 2 - trailing, 1);
  return t.view(shape);
}

torch::Tensor FeatureMapImpl::forward(const torch::Tensor& x, double scale) const {
  if (name_ == "elu") return torch::elu(x) + 1;
  if (name_ == "t2r") {
    torch::Tensor projected = torch::matmul(x, per_head(weight, x.dim(), 2).transpose(-2, -1));
    // relu(scale * W x + b), the scale folded into the bias addition.
    return torch::relu(torch::add(per_head(bias, x.dim(), 2).unsqueeze(-2), projected, scale));
  }
  // rfa: Fourier features of the unit vector: exp(u.w) up to a factor per vector, which the
  // normalizer cancels.
  torch::Tensor unit = x / (x.norm(2, -1, true) + 1e-3);
  torch::Tensor angles = torch::matmul(unit, per_head(weight, x.dim(), 2).transpose(-2, -1));
  const double amplitude = 1.0 / std::sqrt(double(weight.size(1)));
  return torch::cat({torch::sin(angles), torch::cos(angles)}, -1) * amplitude;
}

LinearAttentionImpl::LinearAttentionImpl(const LinearAttentionOptions& options)
    : AttentionBaseImpl(options.attention), linear_options_(options) {
  feature_map = register_module("feature_map", FeatureMap(options.feature_map, kv_heads(),
                                                          head_dim(), options.feature_dim));
}

BlockSpec LinearAttentionImpl::spec() const {
  BlockSpec spec = attention_spec("linear_attention");
  spec.options["feature_map"] = linear_options_.feature_map;
  spec.options["feature_dim"] = feature_map->features();
  return spec;
}

std::unique_ptr<BlockState> LinearAttentionImpl::make_state(int64_t /*max_length*/) const {
  return std::make_unique<RecurrentState>(/*from_source=*/options_.cross);
}

namespace {

// phi(q) S and phi(q).z from a state's sums: [B, kv_heads, group, T, head_dim], [B, kv_heads,
// group, T].
std::pair<torch::Tensor, torch::Tensor> attend_sums(const torch::Tensor& q_features,
                                                    const RecurrentState& state) {
  torch::Tensor both = torch::matmul(q_features, state.sums_and_normalizer().unsqueeze(2));
  const int64_t head_dim = both.size(-1) - 1;
  return {both.narrow(-1, 0, head_dim), both.select(-1, head_dim)};
}

// A key padding mask [B, 1, 1, S] as [B, 1, S, 1], to zero padded keys' features.
torch::Tensor key_padding(const torch::Tensor& mask) {
  TORCH_CHECK(mask.dim() == 4 && mask.size(1) == 1 && mask.size(2) == 1,
              "linear attention: a decoding state needs a key padding mask [B, 1, 1, S]");
  return mask.squeeze(1).unsqueeze(-1);
}

torch::Tensor normalized(const torch::Tensor& numerator, const torch::Tensor& normalizer,
                         double eps) {
  return numerator / normalizer.clamp_min(eps).unsqueeze(-1);
}

}  // namespace

torch::Tensor linear_attention(const torch::Tensor& q_features, const torch::Tensor& k_features,
                               const torch::Tensor& values, const torch::Tensor& mask,
                               bool causal, const RecurrentState* past, double eps) {
  const int64_t length = q_features.size(3);
  // Similarities [B, kv_heads, group, T, S].
  torch::Tensor similarity =
      torch::matmul(q_features, k_features.unsqueeze(2).transpose(-2, -1));
  if (mask.defined()) similarity = similarity.masked_fill(mask.unsqueeze(1), 0.0);
  if (causal && length > 1)
    similarity = similarity.masked_fill(
        causal_mask(length, k_features.size(2), 0, q_features.device()), 0.0);
  torch::Tensor numerator = torch::matmul(similarity, values.unsqueeze(2));
  torch::Tensor normalizer = similarity.sum(-1);
  if (past && !past->empty()) {
    auto [past_numerator, past_normalizer] = attend_sums(q_features, *past);
    numerator = numerator + past_numerator;
    normalizer = normalizer + past_normalizer;
  }
  return normalized(numerator, normalizer, eps);
}

torch::Tensor LinearAttentionImpl::forward(const torch::Tensor& x, const BlockContext& context) {
  const int64_t batch = x.size(0), length = x.size(1);
  const int64_t group = options_.num_heads / kv_heads();
  auto* state = static_cast<RecurrentState*>(context.state);
  auto [q, k, v] = project(x, context);
  // Cross-attention's keys and values: once per sequence when decoding (the state keeps their
  // sums).
  if (options_.cross && (!state || state->empty())) std::tie(k, v) = memory_heads(context.memory);

  // Queries grouped by their key/value head: [B, kv_heads, group, T, head_dim]. The learned map
  // reads queries scaled as softmax scaled its dot products (the fixed maps ignore the scale).
  q = q.reshape({batch, kv_heads(), group, length, head_dim()});
  torch::Tensor q_features = feature_map(q, 1.0 / std::sqrt(double(head_dim())));
  torch::Tensor k_features = k.defined() ? feature_map(k) : torch::Tensor();
  const torch::Tensor& mask = options_.cross ? context.memory_mask : context.self_mask;
  const double eps = linear_options_.eps;

  torch::Tensor out;
  if (!state) {
    out = linear_attention(q_features, k_features, v, mask, options_.causal, nullptr, eps);
  } else if (options_.cross || length == 1) {
    // Decoding: the source summarized once per sentence (padded positions add nothing), or one
    // step's key added to the sums; the query reads only the sums.
    if (k_features.defined()) {
      if (mask.defined()) k_features = k_features.masked_fill(key_padding(mask), 0.0);
      state->add(k_features, v);
    }
    auto [numerator, normalizer] = attend_sums(q_features, *state);
    out = normalized(numerator, normalizer, eps);
  } else {
    // Several steps at once (a prompt): among themselves as in training, plus the sums before.
    out = linear_attention(q_features, k_features, v, mask, options_.causal, state, eps);
    state->add(k_features, v);
  }
  return merge_heads(out.reshape({batch, options_.num_heads, length, head_dim()}));
}

}  // namespace slimformer::nn
