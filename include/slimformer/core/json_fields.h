// Reading optional nested fields of JSON records (slimformer.json) whose shape varies with the
// command that wrote them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace slimformer::core {

// j[key] when j is an object holding an object there; otherwise an empty object.
inline nlohmann::json object_member(const nlohmann::json& j, const std::string& key) {
  if (j.is_object() && j.contains(key) && j.at(key).is_object()) return j.at(key);
  return nlohmann::json::object();
}

}  // namespace slimformer::core
