#include "slimformer/pipeline/compress.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/core/glob.h"
#include "slimformer/core/settings.h"
#include "slimformer/core/text_list.h"
#include "slimformer/models/architecture.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::pipeline {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::vector<std::string>& chain_commands() {
  static const std::vector<std::string> commands = {"importance", "prune-modules", "sparsify",
                                                    "linearize", "decompose"};
  return commands;
}

namespace {

json yaml_to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    json out = json::object();
    for (const auto& entry : node) out[entry.first.as<std::string>()] = yaml_to_json(entry.second);
    return out;
  }
  if (node.IsSequence()) {
    json out = json::array();
    for (const auto& item : node) out.push_back(yaml_to_json(item));
    return out;
  }
  if (node.IsScalar()) return core::recipe_scalar(node.Scalar(), node.Tag() == "!");
  return nullptr;
}

std::string line_of(const fs::path& file, const YAML::Node& node) {
  return fmt::format("{}:{}", file.string(), node.Mark().line + 1);
}

}  // namespace

CompressionChain load_chain(const fs::path& file) {
  if (!fs::exists(file)) throw core::UserError(fmt::format("{}: recipe file not found", file.string()));
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) {
    throw core::UserError(
        fmt::format("{}:{}: malformed recipe: {}", file.string(), e.mark.line + 1, e.msg));
  }
  if (!root.IsMap())
    throw core::UserError(fmt::format("{}:1: a chain recipe is a mapping with steps:", file.string()));
  CompressionChain chain;
  chain.file = file;
  for (const auto& entry : root) {
    const auto key = entry.first.as<std::string>();
    if (key == "defaults") {
      if (!entry.second.IsMap() && !entry.second.IsNull())
        throw core::UserError(fmt::format("{}: defaults must be a mapping of options",
                                          line_of(file, entry.first)));
      chain.defaults = entry.second.IsNull() ? json::object() : yaml_to_json(entry.second);
    } else if (key != "steps") {
      throw core::UserError(fmt::format("{}: unknown field {} (a chain recipe has steps and defaults)",
                                        line_of(file, entry.first), key));
    }
  }
  const auto steps = root["steps"];
  if (!steps || !steps.IsSequence() || steps.size() == 0)
    throw core::UserError(fmt::format("{}: steps must list at least one step", file.string()));
  for (const auto& item : steps) {
    if (!item.IsMap() || item.size() != 1)
      throw core::UserError(fmt::format(
          "{}: a step is one mapping of a command to its options (- sparsify: {{sparsify: ...}})",
          line_of(file, item)));
    const auto entry = *item.begin();
    CompressionStep step;
    step.command = entry.first.as<std::string>();
    step.origin = line_of(file, entry.first);
    const auto& known = chain_commands();
    if (std::find(known.begin(), known.end(), step.command) == known.end())
      throw core::UserError(fmt::format("{}: {} is not a compression step; a step is one of {}",
                                        step.origin, step.command, fmt::join(known, ", ")));
    if (!entry.second.IsNull() && !entry.second.IsMap())
      throw core::UserError(fmt::format("{}: the options of {} must be a mapping", step.origin,
                                        step.command));
    if (entry.second.IsMap()) step.options = yaml_to_json(entry.second);
    chain.steps.push_back(std::move(step));
  }
  return chain;
}

namespace {

// What the checker knows of the model between steps.
struct ChainState {
  models::TransformerConfig config;
  struct Change {
    std::string by;  // "step 2 (prune-modules, chain.yaml:4)"
    bool removed = false;  // removed, or else converted to linear attention
  };
  std::map<std::string, Change> changed;  // sublayer -> what an earlier step did to it
  int64_t removed_unknown = 0;  // sublayers a step removes that only its run will choose
  std::set<std::string> importance_scores;  // what the latest importance step scores
};

std::string option_string(const json& effective, const std::string& key) {
  if (!effective.contains(key) || effective[key].is_null()) return "";
  return effective[key].is_string() ? effective[key].get<std::string>() : effective[key].dump();
}

int64_t option_int(const json& effective, const std::string& key, int64_t fallback) {
  return effective.contains(key) && effective[key].is_number_integer() ? effective[key].get<int64_t>()
                                                                         : fallback;
}

std::vector<std::string> option_list(const json& effective, const std::string& key) {
  std::vector<std::string> out;
  auto add = [&](const std::string& text) {
    const auto items = core::split_commas(text);
    out.insert(out.end(), items.begin(), items.end());
  };
  if (!effective.contains(key)) return out;
  if (effective[key].is_array()) {
    for (const auto& item : effective[key]) add(item.is_string() ? item.get<std::string>() : item.dump());
  } else {
    add(option_string(effective, key));
  }
  return out;
}

std::vector<std::string> present_sublayers(const ChainState& state) {
  std::vector<std::string> present;
  const auto& removed = state.config.removed_sublayers;
  for (const auto& path : models::sublayer_paths(state.config))
    if (std::find(removed.begin(), removed.end(), path) == removed.end() &&
        !(state.changed.count(path) && state.changed.at(path).removed))
      present.push_back(path);
  return present;
}

void check_prune_modules(ChainState& state, const json& e, const std::string& step) {
  const auto paths = option_list(e, "prune.paths");
  const auto present = present_sublayers(state);
  const auto all = models::sublayer_paths(state.config);
  for (const auto& path : paths) {
    if (std::find(all.begin(), all.end(), path) == all.end())
      throw core::UserError(fmt::format("{}: the model has no sublayer {}", step, path));
    if (state.changed.count(path) && state.changed.at(path).removed)
      throw core::UserError(fmt::format("{}: {} was already removed by {}", step, path,
                                        state.changed.at(path).by));
    if (std::find(present.begin(), present.end(), path) == present.end())
      throw core::UserError(fmt::format("{}: {} was already removed from the model", step, path));
  }
  if (!paths.empty()) {
    for (const auto& path : paths) state.changed[path] = {step, true};
    return;
  }
  const std::string by = option_string(e, "prune.by");
  if (by != "random" && option_string(e, "prune.importance").empty()) {
    if (state.importance_scores.empty())
      throw core::UserError(fmt::format(
          "{}: ranks sublayers by {} but no importance step comes before it and "
          "prune.importance is empty (add an importance step, or give prune.paths or prune.by: "
          "random)",
          step, by));
    if (!state.importance_scores.count(by))
      throw core::UserError(fmt::format(
          "{}: ranks sublayers by {}, which the importance step before it does not score "
          "(importance.scores: {})",
          step, by, fmt::join(state.importance_scores, ",")));
  }
  const int64_t k = option_int(e, "prune.k", 2);
  const int64_t left = int64_t(present.size()) - state.removed_unknown;
  if (k >= left)
    throw core::UserError(fmt::format("{}: removes {} sublayers, and only {} are left by then", step,
                                      k, left));
  state.removed_unknown += k;
}

void check_linearize(ChainState& state, const json& e, const std::string& step) {
  if (state.config.is_encoder())
    throw core::UserError(fmt::format(
        "{}: linearize converts a decoder's attention to run as an RNN; the model is an encoder",
        step));
  auto patterns = option_list(e, "linearize.sublayers");
  if (patterns.empty()) patterns = {"decoder.**"};
  std::vector<std::string> attention;
  for (const auto& path : models::sublayer_paths(state.config))
    if (models::sublayer_role(path) == nn::BlockRole::kAttention) attention.push_back(path);
  for (const auto& pattern : patterns)
    if (std::none_of(attention.begin(), attention.end(),
                     [&](const auto& path) { return core::glob_match(pattern, path); }))
      throw core::UserError(
          fmt::format("{}: linearize.sublayers {} matches no attention sublayer", step, pattern));
  // The command refuses a matched sublayer that is gone or linear already, as the check does.
  std::vector<std::string> matched, lost;
  const auto& removed = state.config.removed_sublayers;
  for (const auto& path : attention) {
    if (!core::glob_match_any(patterns, path)) continue;
    if (state.changed.count(path))
      lost.push_back(fmt::format("{} ({})", path, state.changed.at(path).by +
                                                      (state.changed.at(path).removed
                                                           ? ""
                                                           : " (linear attention now)")));
    else if (std::find(removed.begin(), removed.end(), path) != removed.end())
      lost.push_back(fmt::format("{} (removed from the model)", path));
    else if (models::block_spec(state.config, path).kind != "softmax_attention")
      lost.push_back(fmt::format("{} ({} in the model)", path,
                                 models::block_spec(state.config, path).kind));
    else
      matched.push_back(path);
  }
  if (matched.empty())
    throw core::UserError(fmt::format(
        "{}: no softmax attention sublayer left to convert matches {}{}", step,
        fmt::join(patterns, ", "),
        lost.empty() ? std::string()
                     : fmt::format(": {} removed or converted by earlier steps", fmt::join(lost, ", "))));
  if (!lost.empty())
    throw core::UserError(fmt::format(
        "{}: {} matches sublayers that are no longer softmax attention: {}; name the ones left "
        "({})",
        step, fmt::join(patterns, ", "), fmt::join(lost, ", "), fmt::join(matched, ",")));
  for (const auto& path : matched) state.changed[path] = {step, false};
}

void check_decompose(ChainState& state, const json& e, const std::string& step) {
  const auto& c = state.config;
  if (!c.is_encoder() || (c.encoder_head != "span" && c.encoder_head != "classification"))
    throw core::UserError(fmt::format(
        "{}: decompose splits an encoder with a span or classification head; the model is not one",
        step));
  if (c.separate_layers > 0)
    throw core::UserError(fmt::format("{}: the model is decomposed already (k = {})", step,
                                      c.separate_layers));
  const int64_t k = option_int(e, "decompose.k", -1);
  if (k < 0 || k > c.encoder_layers)
    throw core::UserError(
        fmt::format("{}: decompose.k must be in [0, {}], got {}", step, c.encoder_layers, k));
  state.config.separate_layers = k;
}

}  // namespace

void check_chain(const models::TransformerConfig& config, const std::vector<PlannedStep>& steps) {
  ChainState state;
  state.config = config;
  for (size_t i = 0; i < steps.size(); ++i) {
    const auto& planned = steps[i];
    const std::string step =
        fmt::format("step {} ({}, {})", i + 1, planned.step.command, planned.step.origin);
    const auto& command = planned.step.command;
    const auto& e = planned.effective;
    if (command == "importance") {
      const auto scores = option_list(e, "importance.scores");
      state.importance_scores = {scores.begin(), scores.end()};
      if (scores.empty()) state.importance_scores = {"contribution", "criticality"};
    } else if (command == "prune-modules")
      check_prune_modules(state, e, step);
    else if (command == "linearize")
      check_linearize(state, e, step);
    else if (command == "decompose")
      check_decompose(state, e, step);
    else if (command != "sparsify")
      throw core::UserError(fmt::format("{}: not a compression step", step));
  }
}

fs::path step_dir(const fs::path& out, size_t index, const std::string& command) {
  return out / "steps" / fmt::format("{:02d}-{}", index + 1, command);
}

namespace {

json step_record(const PlannedStep& planned, size_t index, const fs::path& from,
                 const fs::path& recipe) {
  return {{"step", index + 1},
          {"command", planned.step.command},
          {"options", planned.step.options},
          {"from", from.string()},
          {"recipe", recipe.string()}};
}

// The model and the steps (with their effective options) must match the earlier run's: a changed
// recipe or model would otherwise continue someone else's chain.
void check_same_steps(const fs::path& out, const fs::path& model, const json& planned) {
  const fs::path file = out / "chain.json";
  if (!fs::exists(file)) return;
  const json earlier = json::parse(core::read_file(file));
  if (earlier.value("model", "") != model.string())
    throw core::UserError(fmt::format(
        "{}: the chain there compresses {}, not {}; give another --output", file.string(),
        earlier.value("model", "?"), model.string()));
  const auto& before = earlier.at("steps");
  for (size_t i = 0; i < std::min(before.size(), planned.size()); ++i)
    if (before[i] != planned[i])
      throw core::UserError(fmt::format(
          "{}: step {} ({}) differs from the run there ({}); give another --output to run the "
          "changed chain",
          file.string(), i + 1, planned[i].value("command", ""), before[i].value("command", "")));
}

void copy_model(const fs::path& from, const fs::path& to) {
  core::write_directory_atomically(to, [&](const fs::path& tmp) {
    fs::create_directories(tmp);
    for (const auto& entry : fs::directory_iterator(from))
      if (entry.is_regular_file()) fs::copy_file(entry.path(), tmp / entry.path().filename());
  });
}

}  // namespace

ChainOutcome run_chain(const fs::path& model, const std::vector<PlannedStep>& steps,
                       const fs::path& out, const StepRunner& runner, const fs::path& recipe) {
  json planned = json::array();
  for (const auto& p : steps) {
    // What the step will run with, defaults included; where it reads and writes is the chain's.
    json effective = p.effective;
    effective.erase("model");
    effective.erase("output");
    planned.push_back(
        {{"command", p.step.command}, {"options", p.step.options}, {"effective", effective}});
  }
  check_same_steps(out, model, planned);
  fs::create_directories(out);
  core::write_text_atomically(
      out / "chain.json",
      json{{"model", model.string()}, {"recipe", recipe.string()}, {"steps", planned}}.dump(2) + "\n");
  ChainOutcome outcome;
  json chain = json::array();
  fs::path current = model, importance;
  for (size_t i = 0; i < steps.size(); ++i) {
    const auto& step = steps[i];
    const fs::path dir = step_dir(out, i, step.step.command);
    const fs::path done = dir / "done.json";
    json entry = step_record(step, i, current, recipe);
    if (fs::exists(done)) {
      const json record = json::parse(core::read_file(done));
      current = record.at("delivered").get<std::string>();
      if (step.step.command == "importance") importance = dir;
      chain.push_back(entry);
      outcome.models.push_back(current);
      ++outcome.resumed_steps;
      continue;
    }
    StepContext context{i, current, dir, importance, fs::exists(dir)};
    fs::create_directories(dir);
    const fs::path delivered = runner(step, context);
    chain.push_back(entry);
    if (step.step.command == "importance") {
      importance = dir;
    } else {
      json record = train::read_record(delivered);
      if (!record.is_object()) record = json::object();
      record["compression_chain"] = chain;
      core::write_text_atomically(delivered / "slimformer.json", record.dump(2) + "\n");
    }
    core::write_text_atomically(done, json{{"delivered", delivered.string()}, {"step", entry}}.dump(2) + "\n");
    current = delivered;
    outcome.models.push_back(current);
  }
  outcome.final_model = out / "model";
  copy_model(current, outcome.final_model);
  return outcome;
}

}  // namespace slimformer::pipeline
