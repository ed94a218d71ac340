// Tensors across the language boundary through DLPack capsules, so that no build of the module
// depends on PyTorch's Python headers: Python turns a capsule into a torch.Tensor where PyTorch
// is installed, or a NumPy array, and hands either back through its __dlpack__().
#pragma once

#include <pybind11/pybind11.h>
#include <torch/torch.h>

namespace slimformer::python {

// A "dltensor" capsule holding a copy of `tensor` (contiguous, on the CPU).
pybind11::capsule to_capsule(const torch::Tensor& tensor);
// The tensor a "dltensor" capsule holds, copied; the capsule is marked used, as DLPack requires.
// A TypeError naming `what` for anything else.
torch::Tensor from_capsule(const pybind11::handle& capsule, const std::string& what);

}  // namespace slimformer::python
