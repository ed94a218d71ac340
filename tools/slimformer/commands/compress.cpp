// slimformer compress: runs a chain of compression steps (a YAML recipe: importance,
// prune-modules, sparsify, linearize, decompose, each with its own command's options) on a model,
// each step's model a checkpoint of its own that records the chain; refuses impossible chains
// before anything runs and resumes an interrupted chain at the step it stopped in.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <set>
#include <sstream>

#include "command_line.h"
#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/core/settings.h"
#include "slimformer/pipeline/compress.h"

namespace slimformer::tools {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Runs `slimformer <arguments>` in this process with a fresh command table, so a step is exactly
// the command a user would type; its records name that command line.
void run_command(const std::vector<std::string>& arguments) {
  CLI::App app;
  app.require_subcommand(1);
  register_commands(app);
  std::vector<std::string> argv_strings = {"slimformer"};
  argv_strings.insert(argv_strings.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  const auto saved = command_arguments();
  set_command_line(argv_strings);
  try {
    app.parse(int(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    set_command_line(saved);
    throw core::UserError(fmt::format("slimformer {}: {}", fmt::join(arguments, " "), e.what()));
  } catch (...) {
    set_command_line(saved);
    throw;
  }
  set_command_line(saved);
}

// The command's effective options for `arguments` (what --dump-config prints), flattened.
json effective_options(std::vector<std::string> arguments) {
  arguments.push_back("--dump-config");
  std::ostringstream captured;
  auto* previous = std::cout.rdbuf(captured.rdbuf());
  try {
    run_command(arguments);
  } catch (...) {
    std::cout.rdbuf(previous);
    throw;
  }
  std::cout.rdbuf(previous);
  return pipeline::flatten_options(json::parse(captured.str()));
}

// Nested options (as a recipe holds them) from dotted keys.
json nest(const json& flat) {
  core::Settings settings;
  for (const auto& [key, value] : flat.items()) settings.set(key, value, "chain");
  return settings.to_nested_json();
}

// What a step runs with when neither the step nor the recipe's defaults say otherwise: no
// control runs and one timing round, since the chain's models are compared at the end.
const json& chain_defaults() {
  static const json defaults = {{"linearize.control", false},
                                {"decompose.control", false},
                                {"eval.repeats", 1}};
  return defaults;
}

struct StepPlan {
  pipeline::PlannedStep planned;
  fs::path recipe;  // the step's own recipe, as the command reads it
};

// Writes each step's recipe (the recipe's defaults the command takes, the chain's defaults, the
// step's options over them) to <out>/recipes/ and resolves its effective options.
std::vector<StepPlan> plan_steps(const pipeline::CompressionChain& chain, const fs::path& model,
                                 const fs::path& out) {
  std::vector<StepPlan> plans;
  const json defaults = pipeline::flatten_options(chain.defaults);
  std::set<std::string> taken;  // the defaults some step's command takes
  for (size_t i = 0; i < chain.steps.size(); ++i) {
    const auto& step = chain.steps[i];
    const std::string name =
        fmt::format("step {} ({}, {})", i + 1, step.command, step.origin);
    StepPlan plan;
    plan.recipe = out / "recipes" / fmt::format("{:02d}-{}.yaml", i + 1, step.command);
    fs::create_directories(plan.recipe.parent_path());
    const std::vector<std::string> args = {step.command, model.string(), "--config",
                                           plan.recipe.string(), "--output",
                                           pipeline::step_dir(out, i, step.command).string()};
    try {
      core::write_text_atomically(plan.recipe, step.options.dump(2) + "\n");
      const json known = effective_options(args);
      json merged = json::object();
      for (const auto* source : {&defaults, &chain_defaults()})
        for (const auto& [key, value] : source->items())
          if (known.contains(key) && !merged.contains(key)) merged[key] = value, taken.insert(key);
      merged.update(pipeline::flatten_options(step.options));
      core::write_text_atomically(plan.recipe, nest(merged).dump(2) + "\n");
      plan.planned.effective = effective_options(args);
    } catch (const core::UserError& e) {
      throw core::UserError(fmt::format("{}: {}", name, e.what()));
    }
    plan.planned.step = step;
    plans.push_back(std::move(plan));
  }
  for (const auto& [key, value] : defaults.items())
    if (!taken.count(key))
      throw core::UserError(fmt::format(
          "{}: defaults: {} is an option of none of the chain's commands (see slimformer "
          "<command> --dump-config)",
          chain.file.string(), key));
  return plans;
}

fs::path delivered_model(const pipeline::StepContext& context, const std::string& command) {
  if (command == "importance") return context.model;
  const fs::path results = context.dir / "results.json";
  const json record = json::parse(core::read_file(results));
  if (!record.contains("delivered"))
    throw std::logic_error(results.string() + " names no delivered model");
  return record["delivered"].get<std::string>();
}

}  // namespace

void register_compress(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compress", "run a chain of compression steps from a recipe, each step's model kept");
  auto recipe = std::make_shared<std::string>();
  auto model = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>("runs/compress");
  auto check_only = std::make_shared<bool>(false);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  cmd->add_option("model", *model, "checkpoint directory to compress")->required();
  cmd->add_option("--config", *recipe,
                  "chain recipe: steps (each a command and its options) and defaults")
      ->required();
  cmd->add_option("--output", *output, "run directory (steps/, recipes/, model/)")
      ->capture_default_str();
  cmd->add_flag("--check", *check_only, "check the chain and print its plan, run nothing");
  cmd->callback([=] {
    common->apply();
    const fs::path model_dir = *model, out = *output;
    if (!fs::exists(model_dir / "config.json"))
      throw core::UserError(fmt::format("{}: not a checkpoint directory (no config.json)", *model));
    const auto chain = pipeline::load_chain(*recipe);
    const auto plans = plan_steps(chain, model_dir, out);
    std::vector<pipeline::PlannedStep> planned;
    for (const auto& p : plans) planned.push_back(p.planned);
    pipeline::check_chain(models::TransformerConfig::load((model_dir / "config.json").string()),
                          planned);
    fmt::print("chain of {} steps on {}:\n", plans.size(), *model);
    for (size_t i = 0; i < plans.size(); ++i)
      fmt::print("  {}. slimformer {} --config {}\n", i + 1, plans[i].planned.step.command,
                 plans[i].recipe.string());
    if (*check_only) return;
    std::vector<std::string> runtime = {"--threads", std::to_string(common->threads), "--device",
                                        common->device};
    auto runner = [&](const pipeline::PlannedStep& step, const pipeline::StepContext& context) {
      const auto& plan = plans[context.index];
      const auto& e = step.effective;
      std::vector<std::string> args = {step.step.command, context.model.string(), "--config",
                                       plan.recipe.string(), "--output", context.dir.string()};
      args.insert(args.end(), runtime.begin(), runtime.end());
      if (context.resume && e.contains("resume")) args.push_back("--resume");
      const bool ranks_by_importance = step.step.command == "prune-modules" &&
                                       e.value("prune.paths", json("")) == json("") &&
                                       e.value("prune.by", "") != "random" &&
                                       e.value("prune.importance", "").empty();
      if (ranks_by_importance && !context.importance.empty())
        args.insert(args.end(), {"--importance", context.importance.string()});
      fmt::print("\n== step {}/{}: slimformer {}\n", context.index + 1, plans.size(),
                 fmt::join(args, " "));
      run_command(args);
      return delivered_model(context, step.step.command);
    };
    const auto outcome = pipeline::run_chain(model_dir, planned, out, runner, *recipe);
    if (outcome.resumed_steps > 0)
      fmt::print("resumed: {} finished steps kept from the earlier run\n", outcome.resumed_steps);
    for (size_t i = 0; i < outcome.models.size(); ++i)
      fmt::print("step {} ({}): {}\n", i + 1, planned[i].step.command, outcome.models[i].string());
    fmt::print("compressed model in {} (its slimformer.json records the chain); compare the "
               "steps with: slimformer compare {} {} --output {}/compare\n",
               outcome.final_model.string(), *model, outcome.final_model.string(), out.string());
  });
}

}  // namespace slimformer::tools
