#include "slimformer/nn/taps.h"

#include <stdexcept>

#include "slimformer/core/glob.h"

namespace slimformer::nn {

TapRecorder::TapRecorder(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}

bool TapRecorder::wants(const std::string& name) const {
  return core::glob_match_any(patterns_, name);
}

void TapRecorder::put(const std::string& name, const torch::Tensor& value) {
  values_[name] = value;
}

const torch::Tensor& TapRecorder::at(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::out_of_range("no tap named " + name + " was recorded");
  return it->second;
}

}  // namespace slimformer::nn
