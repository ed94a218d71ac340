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
