// Position encodings, and the tables that decoding slices them from.
#pragma once

#include <torch/torch.h>

#include <functional>

namespace slimformer::nn {

// Vaswani et al.'s sinusoids for positions start .. start + length - 1: [length, dim] with
// sin(pos / 10000^(2i/dim)) at 2i and cos at 2i + 1.
torch::Tensor sinusoidal_positions(int64_t length, int64_t dim, int64_t start,
                                   const torch::Device& device);

// Rotary position embedding (Su et al. 2021) in the interleaved-pair form of the original LLaMA
// and llama2.c: for x [..., T, head_dim] at positions start .. start + T - 1, each pair
// (x[2i], x[2i+1]) is rotated by the angle pos / theta^(2i / head_dim).
torch::Tensor apply_rotary(const torch::Tensor& x, int64_t start, double theta);
// The same with the angles' cosines and sines given, [T, head_dim / 2] each.
torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& cos,
                           const torch::Tensor& sin);
// cos and sin of the rotary angles of positions start .. start + length - 1, stacked
// [length, 2, head_dim / 2].
torch::Tensor rotary_angles(int64_t start, int64_t length, int64_t head_dim, double theta,
                            const torch::Device& device);

// A table of per-position rows computed once and sliced, since decoding asks for one position a
// step: it is rebuilt (at least doubling) when a longer range or another device is asked for.
// Tables are ordinary tensors even when first asked for in inference mode, so that training can
// use them too. Not thread-safe, like the module that holds it.
class PositionTable {
 public:
  // `build(positions, device)`: the rows of positions 0 .. positions - 1.
  using Builder = std::function<torch::Tensor(int64_t positions, const torch::Device& device)>;
  explicit PositionTable(Builder build) : build_(std::move(build)) {}
  // Rows start .. start + length - 1.
  torch::Tensor rows(int64_t start, int64_t length, const torch::Device& device);

 private:
  Builder build_;
  torch::Tensor table_;
};

// The table of sinusoidal_positions for `dim`.
PositionTable sinusoid_table(int64_t dim);

}  // namespace slimformer::nn
