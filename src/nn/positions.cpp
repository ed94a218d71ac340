#include "slimformer/nn/positions.h"

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

}  // namespace slimformer::nn

namespace slimformer::nn {

torch::Tensor apply_rotary(const torch::Tensor& x, int64_t start, double theta) {
  const int64_t length = x.size(-2), head_dim = x.size(-1);
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(x.device());
  torch::Tensor inverse_freq =
      torch::pow(theta, torch::arange(0, head_dim, 2, f32) / static_cast<double>(head_dim))
          .reciprocal();
  torch::Tensor angle = torch::arange(start, start + length, f32).unsqueeze(1) * inverse_freq;
  torch::Tensor cos = angle.cos().to(x.dtype()), sin = angle.sin().to(x.dtype());  // [T, hd/2]
  torch::Tensor pairs = x.unflatten(-1, {head_dim / 2, 2});
  torch::Tensor even = pairs.select(-1, 0), odd = pairs.select(-1, 1);
  return torch::stack({even * cos - odd * sin, even * sin + odd * cos}, -1).flatten(-2);
}

}  // namespace slimformer::nn
