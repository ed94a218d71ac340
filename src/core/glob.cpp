#include "slimformer/core/glob.h"

namespace slimformer::core {

bool glob_match(const std::string& pattern, const std::string& name) {
  if (pattern.empty()) return name.empty();
  if (pattern.starts_with("**")) {
    for (size_t n = 0; n <= name.size(); ++n)
      if (glob_match(pattern.substr(2), name.substr(n))) return true;
    return false;
  }
  if (pattern[0] == '*') {
    for (size_t n = 0; n <= name.size(); ++n) {
      if (glob_match(pattern.substr(1), name.substr(n))) return true;
      if (n < name.size() && name[n] == '.') break;
    }
    return false;
  }
  return !name.empty() && pattern[0] == name[0] && glob_match(pattern.substr(1), name.substr(1));
}

bool glob_match_any(const std::vector<std::string>& patterns, const std::string& name) {
  for (const auto& pattern : patterns)
    if (glob_match(pattern, name)) return true;
  return false;
}

}  // namespace slimformer::core
