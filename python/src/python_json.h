// JSON values (what the library's records, results and options are) as Python objects and back:
// objects become dicts, arrays lists, numbers int or float, null None.
#pragma once

#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>

namespace slimformer::python {

pybind11::object to_python(const nlohmann::json& value);
// A TypeError naming `what` for a Python value JSON cannot hold.
nlohmann::json to_json(const pybind11::handle& value, const std::string& what);

}  // namespace slimformer::python
