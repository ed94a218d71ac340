#include "slimformer/core/settings.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>

#include "slimformer/core/error.h"

namespace slimformer::core {

using nlohmann::json;

void Settings::set(const std::string& key, json value, std::string origin) {
  values_[key] = std::move(value);
  origins_[key] = std::move(origin);
}

const json& Settings::raw(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw std::logic_error("setting not declared: " + key);
  return it->second;
}

std::string Settings::origin(const std::string& key) const {
  auto it = origins_.find(key);
  return it == origins_.end() ? "default" : it->second;
}

void Settings::fail(const std::string& key, const std::string& expectation) const {
  std::string given = has(key) ? raw(key).dump() : "nothing";
  std::string where = origin(key);
  // Command-line options are named by their flag; recipe values by file:line and key.
  if (where.rfind("--", 0) == 0)
    throw UserError(fmt::format("{} {}, got {}", where, expectation, given));
  throw UserError(fmt::format("{}: {} {}, got {}", where, key, expectation, given));
}

int64_t Settings::get_int(const std::string& key) const {
  const json& v = raw(key);
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float() &&
      v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>())))
    return static_cast<int64_t>(v.get<double>());
  if (v.is_string())
    if (auto parsed = parse_number<int64_t>(v.get<std::string>())) return *parsed;
  fail(key, "must be an integer");
}

double Settings::get_double(const std::string& key) const {
  const json& v = raw(key);
  if (v.is_number()) return v.get<double>();
  if (v.is_string())
    if (auto parsed = parse_number<double>(v.get<std::string>())) return *parsed;
  fail(key, "must be a number");
}

bool Settings::get_bool(const std::string& key) const {
  const json& v = raw(key);
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "0" || s == "no" || s == "off") return false;
  }
  fail(key, "must be true or false");
}

std::string Settings::get_string(const std::string& key) const {
  const json& v = raw(key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_number() || v.is_boolean()) return v.dump();
  fail(key, "must be a string");
}

std::vector<std::string> Settings::get_strings(const std::string& key) const {
  const json& v = raw(key);
  if (v.is_null()) return {};
  if (v.is_string())
    return v.get<std::string>().empty() ? std::vector<std::string>{}
                                        : std::vector<std::string>{v.get<std::string>()};
  if (v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string(); }))
    return v.get<std::vector<std::string>>();
  fail(key, "must be a list of strings");
}

int64_t Settings::get_int_at_least(const std::string& key, int64_t minimum) const {
  int64_t v = get_int(key);
  if (v < minimum) fail(key, fmt::format("must be >= {}", minimum));
  return v;
}

double Settings::get_double_in(const std::string& key, double low, double high,
                               bool high_open) const {
  double v = get_double(key);
  bool ok = v >= low && (high_open ? v < high : v <= high);
  if (!ok) fail(key, fmt::format("must be in [{}, {}{}", low, high, high_open ? ")" : "]"));
  return v;
}

std::string Settings::get_choice(const std::string& key,
                                 const std::vector<std::string>& choices) const {
  std::string v = get_string(key);
  if (std::find(choices.begin(), choices.end(), v) == choices.end())
    fail(key, fmt::format("must be one of {}", fmt::join(choices, "|")));
  return v;
}

json Settings::to_nested_json() const {
  json out = json::object();
  for (const auto& [key, value] : values_) {
    json* node = &out;
    size_t start = 0;
    for (size_t dot = key.find('.'); dot != std::string::npos; dot = key.find('.', start)) {
      node = &(*node)[key.substr(start, dot - start)];
      start = dot + 1;
    }
    (*node)[key.substr(start)] = value;
  }
  return out;
}

json recipe_scalar(const std::string& text, bool quoted) {
  if (quoted) return text;
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  if (text == "null" || text == "~" || text.empty()) return nullptr;
  if (auto i = parse_number<int64_t>(text)) return *i;
  if (auto d = parse_number<double>(text)) return *d;
  return text;
}

namespace {

json yaml_scalar_to_json(const YAML::Node& node) {
  return recipe_scalar(node.Scalar(), node.Tag() == "!");
}

void flatten_yaml(const YAML::Node& node, const std::string& prefix, const std::string& file,
                  const std::vector<std::string>& known_keys, Settings& settings) {
  for (const auto& entry : node) {
    const std::string name = entry.first.as<std::string>();
    std::string key = prefix.empty() ? name : prefix + "." + name;
    std::replace(key.begin(), key.end(), '-', '_');
    const YAML::Node& value = entry.second;
    std::string where = fmt::format("{}:{}", file, entry.first.Mark().line + 1);
    bool is_section = value.IsMap();
    if (is_section) {
      bool known_prefix = std::any_of(known_keys.begin(), known_keys.end(),
                                      [&](const auto& k) { return k.rfind(key + ".", 0) == 0; });
      if (!known_prefix) throw UserError(fmt::format("{}: unknown section {}", where, key));
      flatten_yaml(value, key, file, known_keys, settings);
      continue;
    }
    if (std::find(known_keys.begin(), known_keys.end(), key) == known_keys.end())
      throw UserError(fmt::format("{}: unknown field {}", where, key));
    if (value.IsSequence()) {
      json list = json::array();
      for (const auto& item : value) list.push_back(yaml_scalar_to_json(item));
      settings.set(key, std::move(list), where);
    } else {
      settings.set(key, yaml_scalar_to_json(value), where);
    }
  }
}

}  // namespace

void load_recipe(const std::string& path, const std::vector<std::string>& known_keys,
                 Settings& settings) {
  if (!std::filesystem::exists(path))
    throw UserError(fmt::format("{}: recipe file not found", path));
  // Parsing and reading values both throw YAML's exceptions (a value that converts to no scalar
  // type among them): either way the recipe is malformed at the line named.
  try {
    const YAML::Node root = YAML::LoadFile(path);  // YAML is a superset of JSON: one reader
    if (root.IsNull()) return;
    if (!root.IsMap())
      throw UserError(fmt::format("{}:1: a recipe must be a mapping of sections", path));
    flatten_yaml(root, "", path, known_keys, settings);
  } catch (const YAML::Exception& e) {
    throw UserError(fmt::format("{}:{}: malformed recipe: {}", path, e.mark.line + 1, e.msg));
  }
}

}  // namespace slimformer::core
