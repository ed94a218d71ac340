// Position encodings.
#pragma once

#include <torch/torch.h>

namespace slimformer::nn {

// Vaswani et al.'s sinusoids for positions start .. start + length - 1: [length, dim] with
// sin(pos / 10000^(2i/dim)) at 2i and cos at 2i + 1.
torch::Tensor sinusoidal_positions(int64_t length, int64_t dim, int64_t start,
                                   const torch::Device& device);

}  // namespace slimformer::nn
