// Declarative command options: each option has a dotted key ("train.lr"), a kebab-case flag
// ("--lr"), a default and a help text. The effective settings are the defaults, overridden by a
// recipe (--config), overridden by the command line; --dump-config prints them.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slimformer/core/settings.h"

namespace slimformer::tools {

class CommandOptions {
 public:
  explicit CommandOptions(CLI::App* app, bool with_recipe = true);

  // Flag defaults to "--" + the key's last component with '_' -> '-'.
  void add(const std::string& key, nlohmann::json default_value, const std::string& help,
           const std::string& flag = "");
  // Changes the default of an option added earlier (a command reusing shared options).
  void set_default(const std::string& key, nlohmann::json value);
  void set_defaults(const std::vector<std::pair<std::string, nlohmann::json>>& values);
  // A positional argument (required unless it has a default).
  void add_positional(const std::string& key, const std::string& name, const std::string& help,
                      bool required = true);
  // Resolves defaults <- recipe <- command line. Prints the settings and returns false if
  // --dump-config was given.
  bool resolve(core::Settings& settings);

 private:
  struct Spec {
    std::string key, flag;
    nlohmann::json default_value;
    bool required = false;
  };
  CLI::App* app_;
  std::vector<Spec> specs_;
  std::map<std::string, std::string> given_;
  std::string recipe_;
  bool dump_ = false;
};

// --config RECIPE and --dump-config for a command declared with plain CLI11 options (call it
// after the last option): a recipe's keys are the long option names without the dashes, '-' as
// '_' ("max_new_tokens: 64", "model: models/x"), and flags given on the command line win over
// it, as with CommandOptions. --dump-config prints every option's effective value (null where an
// option has neither a value nor a default) as a recipe and stops.
void add_recipe_flags(CLI::App* cmd);

// A string option's value when the user gave it (on the command line or in a recipe), else empty.
std::string given_string(const core::Settings& settings, const std::string& key);

// A list option: recipe lists as they are, command-line values split at commas.
std::vector<std::string> get_list(const core::Settings& settings, const std::string& key);

// --device and --threads, which every command takes.
struct CommonOptions {
  std::string device = "cpu";
  int threads = 0;
  void add_to(CLI::App* app);
  void apply() const;  // configures threads
};

}  // namespace slimformer::tools
