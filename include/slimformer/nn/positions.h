// Position encodings.
#pragma once

#include <torch/torch.h>

namespace slimformer::nn {

// Vaswani et al.'s sinusoids for positions start .. start + length - 1: [length, dim] with
// sin(pos / 10000^(2i/dim)) at 2i and cos at 2i + 1.
torch::Tensor sinusoidal_positions(int64_t length, int64_t dim, int64_t start,
                                   const torch::Device& device);

// Rotary position embedding (Su et al. 2021) in the interleaved-pair form of the original LLaMA
// and llama2.c: for x [..., T, head_dim] at positions start .. start + T - 1, each pair
// (x[2i], x[2i+1]) is rotated by the angle pos / theta^(2i / head_dim).
torch::Tensor apply_rotary(const torch::Tensor& x, int64_t start, double theta);

}  // namespace slimformer::nn
