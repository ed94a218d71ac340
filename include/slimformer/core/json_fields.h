// Reading optional fields of JSON records (slimformer.json) whose shape varies with the command
// that wrote them, and which users may edit by hand: a field of the wrong type is a UserError
// naming the file and the field, never a library exception.
#pragma once

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>

#include "slimformer/core/error.h"

namespace slimformer::core {

// j[key] when j is an object holding an object there; otherwise an empty object.
inline nlohmann::json object_member(const nlohmann::json& j, const std::string& key) {
  if (j.is_object() && j.contains(key) && j.at(key).is_object()) return j.at(key);
  return nlohmann::json::object();
}

// j[key] as a T when j is an object holding it, `fallback` when it holds none (or null); a
// UserError "<where>: <key> ..." when the value is not a T.
template <typename T>
T field_or(const nlohmann::json& j, const std::string& key, const T& fallback,
           const std::string& where) {
  if (!j.is_object() || !j.contains(key) || j.at(key).is_null()) return fallback;
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw UserError(fmt::format("{}: {} holds {}, of the wrong type ({})", where, key,
                                j.at(key).dump().substr(0, 60), e.what()));
  }
}

}  // namespace slimformer::core
