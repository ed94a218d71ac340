#include "options.h"

#include <algorithm>
#include <iostream>
#include <sstream>

#include "slimformer/core/error.h"
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
  // Required unless the recipe names it: checked once the recipe is read (resolve).
  app_->add_option(name, given_[key], help);
  specs_.push_back({key, name, nlohmann::json(""), required});
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
  for (const auto& spec : specs_)
    if (spec.required && settings.get_string(spec.key).empty()) throw CLI::RequiredError(spec.flag);
  return true;
}

namespace {

// A recipe key for a CLI11 option: its long name without dashes, '-' as '_', or a positional's
// name.
std::string recipe_key(const CLI::Option& option) {
  std::string name = option.get_lnames().empty() ? option.get_name() : option.get_lnames().front();
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

// The strings CLI11 reads for a recipe value: a list's items, or the value itself.
std::vector<std::string> option_strings(const nlohmann::json& value) {
  std::vector<std::string> out;
  for (const auto& item : value.is_array() ? value : nlohmann::json::array({value}))
    out.push_back(item.is_string() ? item.get<std::string>() : item.dump());
  return out;
}

// An option's effective value as a recipe writes it: what it read, else its default.
nlohmann::json effective_value(const CLI::Option& option, const core::Settings& recipe) {
  std::vector<std::string> texts = option.results();
  if (texts.empty() && recipe.has(recipe_key(option))) return recipe.raw(recipe_key(option));
  if (texts.empty() && !option.get_default_str().empty()) {
    // A list's default is one string ("1 8 32 128" or "[a,b]"): its items.
    texts = {option.get_default_str()};
    if (option.get_expected_max() > 1) {
      std::string items = texts[0];
      for (char& c : items)
        if (c == ',' || c == '[' || c == ']') c = ' ';
      std::istringstream words(items);
      texts.clear();
      for (std::string word; words >> word;) texts.push_back(word);
    }
  }
  if (texts.empty()) return option.get_type_size() == 0 ? nlohmann::json(false) : nlohmann::json();
  auto typed = [](const std::string& text) {
    if (text == "true" || text == "false") return nlohmann::json(text == "true");
    if (auto v = core::parse_number<int64_t>(text)) return nlohmann::json(*v);
    if (auto v = core::parse_number<double>(text)) return nlohmann::json(*v);
    return nlohmann::json(text);
  };
  if (option.get_expected_max() > 1 && !(texts.size() == 1 && texts[0] == "[]")) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : texts) list.push_back(typed(t));
    return list;
  }
  return typed(texts.back());
}

}  // namespace

void add_recipe_flags(CLI::App* cmd) {
  auto recipe = std::make_shared<std::string>();
  auto dump = std::make_shared<bool>(false);
  // Required options may come from the recipe: checked after it is read.
  auto required = std::make_shared<std::vector<CLI::Option*>>();
  for (CLI::Option* option : cmd->get_options()) {
    if (option->get_required()) {
      required->push_back(option);
      option->required(false);
    }
  }
  cmd->add_option("--config", *recipe,
                  "YAML or JSON recipe with this command's options (flags override it)")
      ->group("Recipe");
  cmd->add_flag("--dump-config", *dump, "print the effective options as a recipe and exit")
      ->group("Recipe");
  cmd->parse_complete_callback([cmd, recipe, dump, required] {
    std::vector<CLI::Option*> options;
    std::vector<std::string> keys;
    for (CLI::Option* option : cmd->get_options()) {
      const std::string key = recipe_key(*option);
      if (key == "help" || key == "config" || key == "dump_config") continue;
      options.push_back(option);
      keys.push_back(key);
    }
    core::Settings given;
    if (!recipe->empty()) core::load_recipe(*recipe, keys, given);
    for (size_t i = 0; i < options.size(); ++i) {
      CLI::Option* option = options[i];
      if (option->count() > 0 || !given.has(keys[i]) || given.raw(keys[i]).is_null()) continue;
      for (const auto& text : option_strings(given.raw(keys[i]))) option->add_result(text);
      option->run_callback();
    }
    if (*dump) {
      nlohmann::json effective = nlohmann::json::object();
      for (size_t i = 0; i < options.size(); ++i)
        effective[keys[i]] = effective_value(*options[i], given);
      std::cout << effective.dump(2) << std::endl;
      throw CLI::Success();
    }
    for (CLI::Option* option : *required)
      if (option->count() == 0) throw CLI::RequiredError(option->get_name());
  });
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
  try {
    kernels::sparse_kernels_mode();  // a bad SLIMFORMER_SPARSE_KERNELS fails here, not mid-run
  } catch (const std::invalid_argument& error) {
    throw core::UserError(error.what());
  }
}

}  // namespace slimformer::tools
