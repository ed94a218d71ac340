// Matching dotted names (sublayer paths, parameter names, tap names) against patterns: '*'
// matches any run of characters within one dotted component, '**' any run of characters.
//   "decoder.layers.*.self_attn.**"   every parameter of every decoder self-attention
#pragma once

#include <string>
#include <vector>

namespace slimformer::core {

bool glob_match(const std::string& pattern, const std::string& name);
// Whether any of `patterns` matches `name`.
bool glob_match_any(const std::vector<std::string>& patterns, const std::string& name);

}  // namespace slimformer::core
