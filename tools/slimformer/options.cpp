#include "options.h"

#include <algorithm>
#include <iostream>

#include "slimformer/core/runtime.h"
#include "slimformer/core/text_list.h"
#include "slimformer/kernels/sparse_matmul.h"

namespace slimformer::tools {

namespace {

// A command-line string as the JSON type of the option's default, so that --dump-config writes
// numbers as numbers. Text that does not parse stays a string, for the getter to refuse by name.
nlohmann::json typed_like(const nlohmann::json& default_value, const std::string& text) {
  if (default_value.is_number_integer()) {
    if (auto v = core::parse_number<int64_t>(text)) return *v;
  } else if (default_value.is_number()) {
    if (auto v = core::parse_number<double>(text)) return *v;
  } else if (default_value.is_boolean()) {
    if (text == "true") return true;
    if (text == "false") return false;
  }
  return text;
}

}  // namespace

CommandOptions::CommandOptions(CLI::App* app, bool with_recipe) : app_(app) {
  if (with_recipe) {
    app->add_option("--config", recipe_,
                    "YAML recipe with this command's options (flags override it)")
        ->group("Recipe");
    app->add_flag("--dump-config", dump_, "print the effective options as a recipe and exit")
        ->group("Recipe");
  }
}

void CommandOptions::add(const std::string& key, nlohmann::json default_value,
                         const std::string& help, const std::string& flag) {
  std::string name = flag;
  if (name.empty()) {
    name = "--" + key.substr(key.rfind('.') + 1);
    std::replace(name.begin(), name.end(), '_', '-');
  }
  std::string group = key.find('.') == std::string::npos ? "Options" : key.substr(0, key.find('.'));
  group[0] = static_cast<char>(std::toupper(group[0]));
  std::string shown =
      default_value.is_string() ? default_value.get<std::string>() : default_value.dump();
  // Booleans are flags: --resume, or --resume=false to override a recipe.
  auto* option = default_value.is_boolean()
                     ? app_->add_flag(name + "{true}", given_[key], help)->group(group)
                     : app_->add_option(name, given_[key], help)->group(group);
  option->multi_option_policy(
      CLI::MultiOptionPolicy::TakeLast);  // a later flag overrides an earlier one
  if (!shown.empty()) option->default_str(shown);
  if (default_value.is_number_integer())
    option->type_name("INT");
  else if (default_value.is_number())
    option->type_name("FLOAT");
  else if (default_value.is_boolean())
    option->type_name("");
  specs_.push_back({key, name, std::move(default_value)});
}

void CommandOptions::set_default(const std::string& key, nlohmann::json value) {
  for (auto& spec : specs_) {
    if (spec.key != key) continue;
    if (auto* option = app_->get_option_no_throw(spec.flag))
      option->default_str(value.is_string() ? value.get<std::string>() : value.dump());
    spec.default_value = std::move(value);
    return;
  }
  throw std::logic_error("set_default: no option " + key);
}

void CommandOptions::set_defaults(
    const std::vector<std::pair<std::string, nlohmann::json>>& values) {
  for (const auto& [key, value] : values) set_default(key, value);
}

std::string given_string(const core::Settings& s, const std::string& key) {
  return s.origin(key) == "default" ? "" : s.get_string(key);
}

std::vector<std::string> get_list(const core::Settings& settings, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& item : settings.get_strings(key)) {
    const auto items = core::split_commas(item);
    out.insert(out.end(), items.begin(), items.end());
  }
  return out;
}

void CommandOptions::add_positional(const std::string& key, const std::string& name,
                                    const std::string& help, bool required) {
  auto* option = app_->add_option(name, given_[key], help);
  if (required) option->required();
  specs_.push_back({key, name, nlohmann::json("")});
}

bool CommandOptions::resolve(core::Settings& settings) {
  std::vector<std::string> keys;
  for (const auto& spec : specs_) {
    settings.set(spec.key, spec.default_value, "default");
    keys.push_back(spec.key);
  }
  if (!recipe_.empty()) core::load_recipe(recipe_, keys, settings);
  for (const auto& spec : specs_) {
    const CLI::Option* option = app_->get_option_no_throw(spec.flag);
    if (option && option->count() > 0)
      settings.set(spec.key, typed_like(spec.default_value, given_[spec.key]), spec.flag);
  }
  if (dump_) {
    std::cout << settings.to_nested_json().dump(2) << std::endl;
    return false;
  }
  return true;
}

void CommonOptions::add_to(CLI::App* app) {
  app->add_option("--device", device, "cpu or cuda")->capture_default_str()->group("Runtime");
  app->add_option("--threads", threads, "compute threads (0: the measured-best defaults)")
      ->capture_default_str()
      ->group("Runtime");
}

void CommonOptions::apply() const {
  core::configure_threads(threads);
  kernels::set_sparse_threads(threads);
}

}  // namespace slimformer::tools
