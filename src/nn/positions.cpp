#include "slimformer/nn/positions.h"

#include <algorithm>
#include <cmath>

namespace slimformer::nn {

torch::Tensor sinusoidal_positions(int64_t length, int64_t dim, int64_t start,
                                   const torch::Device& device) {
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  torch::Tensor position = torch::arange(start, start + length, f32).unsqueeze(1);
  torch::Tensor rate = torch::exp(torch::arange(0, dim, 2, f32) * (-std::log(10000.0) / dim));
  torch::Tensor table = torch::zeros({length, dim}, f32);
  table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)},
                   torch::sin(position * rate));
  table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)},
                   torch::cos(position * rate).narrow(1, 0, dim / 2));
  return table;
}

torch::Tensor rotary_angles(int64_t start, int64_t length, int64_t head_dim, double theta,
                            const torch::Device& device) {
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  torch::Tensor inverse_freq =
      torch::pow(theta, torch::arange(0, head_dim, 2, f32) / static_cast<double>(head_dim))
          .reciprocal();
  torch::Tensor angle = torch::arange(start, start + length, f32).unsqueeze(1) * inverse_freq;
  return torch::stack({angle.cos(), angle.sin()}, 1);
}

torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& cos,
                           const torch::Tensor& sin) {
  const int64_t head_dim = x.size(-1);
  torch::Tensor pairs = x.unflatten(-1, {head_dim / 2, 2});
  torch::Tensor even = pairs.select(-1, 0), odd = pairs.select(-1, 1);
  return torch::stack({even * cos - odd * sin, even * sin + odd * cos}, -1).flatten(-2);
}

torch::Tensor apply_rotary(const torch::Tensor& x, int64_t start, double theta) {
  torch::Tensor angles = rotary_angles(start, x.size(-2), x.size(-1), theta, x.device());
  return apply_rotary(x, angles.select(1, 0).to(x.dtype()), angles.select(1, 1).to(x.dtype()));
}

PositionTable sinusoid_table(int64_t dim) {
  return PositionTable([dim](int64_t positions, const torch::Device& device) {
    return sinusoidal_positions(positions, dim, 0, device);
  });
}

torch::Tensor PositionTable::rows(int64_t start, int64_t length, const torch::Device& device) {
  const int64_t needed = start + length;
  if (!table_.defined() || table_.size(0) < needed || table_.device() != device) {
    const int64_t built = table_.defined() ? table_.size(0) : 0;
    // Ordinary tensors, not inference tensors, without autograd history.
    c10::InferenceMode ordinary(/*enabled=*/false);
    torch::NoGradGuard no_grad;
    table_ = build_(std::max({needed, 2 * built, int64_t(64)}), device);
  }
  return table_.narrow(0, start, length);
}

}  // namespace slimformer::nn
