#include "slimformer/nn/taps.h"

#include <stdexcept>

namespace slimformer::nn {

bool tap_name_matches(const std::string& pattern, const std::string& name) {
  // Recursive wildcard matching: "**" crosses dots, "*" stays within one path component.
  if (pattern.empty()) return name.empty();
  if (pattern.starts_with("**")) {
    for (size_t n = 0; n <= name.size(); ++n)
      if (tap_name_matches(pattern.substr(2), name.substr(n))) return true;
    return false;
  }
  if (pattern[0] == '*') {
    for (size_t n = 0; n <= name.size(); ++n) {
      if (tap_name_matches(pattern.substr(1), name.substr(n))) return true;
      if (n < name.size() && name[n] == '.') break;
    }
    return false;
  }
  return !name.empty() && pattern[0] == name[0] &&
         tap_name_matches(pattern.substr(1), name.substr(1));
}

TapRecorder::TapRecorder(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}

bool TapRecorder::wants(const std::string& name) const {
  for (const auto& pattern : patterns_)
    if (tap_name_matches(pattern, name)) return true;
  return false;
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
