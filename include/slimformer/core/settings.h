// Settings: the effective options of a command as a flat map of dotted keys ("train.lr") to JSON
// values, each remembering where it came from (a recipe line, a command-line option or the
// default), so that a bad value is reported where the user wrote it:
//   recipe.yaml:12: train.lr must be > 0, got -1
#pragma once

#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace slimformer::core {

// The number that `text` spells in full, or nothing ("12abc" and "" are not numbers).
template <typename T>
std::optional<T> parse_number(const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end) return std::nullopt;
  return value;
}

class Settings {
 public:
  void set(const std::string& key, nlohmann::json value, std::string origin);
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const nlohmann::json& raw(const std::string& key) const;
  // Where a key's value came from: "recipe.yaml:12", "--lr", or "default".
  std::string origin(const std::string& key) const;

  int64_t get_int(const std::string& key) const;
  double get_double(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::string get_string(const std::string& key) const;
  std::vector<std::string> get_strings(const std::string& key) const;

  // Range and choice checks that throw a UserError naming the key and its origin.
  int64_t get_int_at_least(const std::string& key, int64_t minimum) const;
  double get_double_in(const std::string& key, double low, double high, bool high_open) const;
  std::string get_choice(const std::string& key, const std::vector<std::string>& choices) const;
  [[noreturn]] void fail(const std::string& key, const std::string& expectation) const;

  // Nested JSON ({"train": {"lr": ...}}) of every key, for --dump-config and run records.
  nlohmann::json to_nested_json() const;
  const std::map<std::string, nlohmann::json>& values() const { return values_; }

 private:
  std::map<std::string, nlohmann::json> values_;
  std::map<std::string, std::string> origins_;
};

// The JSON value of a YAML scalar as recipes read it: booleans, null, integers and numbers;
// a quoted scalar is always a string.
nlohmann::json recipe_scalar(const std::string& text, bool quoted);

// Reads a YAML or JSON recipe into flat dotted keys with "file:line" origins. Keys not in
// `known_keys` are refused with the line they appear on.
void load_recipe(const std::string& path, const std::vector<std::string>& known_keys,
                 Settings& settings);

}  // namespace slimformer::core
