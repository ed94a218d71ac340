// TapRecorder: the Taps that keeps the values whose names match its patterns, for a caller that
// wants intermediate states of one forward pass ("encoder.layers.*" for every layer's hidden
// state, "decoder.layers.3.ffn", "**.attention_probs" for every attention's weights). '*'
// matches within one dotted path component, '**' across components.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "slimformer/nn/block.h"

namespace slimformer::nn {

class TapRecorder : public Taps {
 public:
  explicit TapRecorder(std::vector<std::string> patterns);
  bool wants(const std::string& name) const override;
  void put(const std::string& name, const torch::Tensor& value) override;

  // The recorded values by name (a name reported twice keeps its last value).
  const std::map<std::string, torch::Tensor>& values() const { return values_; }
  // The value named `name`; a std::out_of_range naming it if none was recorded.
  const torch::Tensor& at(const std::string& name) const;
  void clear() { values_.clear(); }

 private:
  std::vector<std::string> patterns_;
  std::map<std::string, torch::Tensor> values_;
};

}  // namespace slimformer::nn
