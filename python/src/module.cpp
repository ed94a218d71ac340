// The _slimformer extension module: the library's models and pipeline calls for Python. The
// slimformer package wraps it with keyword arguments and tensors.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "slimformer/core/error.h"
#include "slimformer/core/runtime.h"
#include "slimformer/kernels/sparse_matmul.h"

namespace py = pybind11;

PYBIND11_MODULE(_slimformer, m) {
  m.doc() = "slimformer's library: models, evaluation, the methods and their measurements";
  // The library's UserError (a mistake in a file, field or option) arrives as slimformer.Error,
  // a ValueError; a run stopped after saving its state as slimformer.Interrupted.
  static py::exception<slimformer::core::UserError> error(m, "Error", PyExc_ValueError);
  static py::exception<slimformer::core::Interrupted> interrupted(m, "Interrupted",
                                                                  PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const slimformer::core::UserError& e) {
      error(e.what());
    } catch (const slimformer::core::Interrupted& e) {
      interrupted(e.what());
    }
  });
  m.def(
      "set_threads",
      [](int threads) {
        slimformer::core::configure_threads(threads);
        slimformer::kernels::set_sparse_threads(threads);
      },
      py::arg("threads"),
      "BLAS and sparse-kernel threads (LibTorch's own pool gets one), as --threads does");
  slimformer::python::bind_model(m);
  slimformer::python::bind_options(m);
  slimformer::python::bind_pipeline(m);
}
