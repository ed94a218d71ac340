// The parts of the _slimformer extension module, each defined in its own file.
#pragma once

#include <pybind11/pybind11.h>

namespace slimformer::python {

void bind_model(pybind11::module_& m);     // Model, DecodeOptions, GenerateOptions
void bind_options(pybind11::module_& m);   // the pipeline's option structs
void bind_pipeline(pybind11::module_& m);  // measurement, fine-tuning and the methods

}  // namespace slimformer::python
