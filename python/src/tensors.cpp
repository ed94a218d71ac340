#include "tensors.h"

#include <ATen/DLConvertor.h>

namespace py = pybind11;

namespace slimformer::python {

namespace {

constexpr const char* kFresh = "dltensor";
constexpr const char* kUsed = "used_dltensor";

// A capsule nobody consumed still owns its tensor.
void release_unused(PyObject* capsule) {
  if (!PyCapsule_IsValid(capsule, kFresh)) return;
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, kFresh));
  if (managed && managed->deleter) managed->deleter(managed);
}

}  // namespace

py::capsule to_capsule(const torch::Tensor& tensor) {
  DLManagedTensor* managed = at::toDLPack(tensor.detach().to(torch::kCPU).contiguous().clone());
  PyObject* capsule = PyCapsule_New(managed, kFresh, release_unused);
  if (!capsule) {
    managed->deleter(managed);
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::capsule>(capsule);
}

torch::Tensor from_capsule(const py::handle& capsule, const std::string& what) {
  if (!PyCapsule_IsValid(capsule.ptr(), kFresh))
    throw py::type_error(what + ": expected a tensor (torch.Tensor or numpy.ndarray)");
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), kFresh));
  PyCapsule_SetName(capsule.ptr(), kUsed);
  // fromDLPack owns `managed` from here and releases it with the tensor.
  return at::fromDLPack(managed).clone();
}

}  // namespace slimformer::python
