// Compression chains: a YAML recipe lists steps, each a command of this toolkit with its own
// recipe (what `slimformer <command> --dump-config` prints), run in order on the model each
// previous step delivered. Impossible chains are refused before anything runs (check_chain);
// every step's model records the chain that produced it in slimformer.json ("compression_chain"),
// so the chain is readable from the final model alone; an interrupted chain resumes at the step
// it stopped in.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slimformer/models/transformer_config.h"
#include "slimformer/pipeline/run_record.h"

namespace slimformer::pipeline {

// The commands a chain may hold, in the order a user would usually put them.
const std::vector<std::string>& chain_commands();

struct CompressionStep {
  std::string command;                                // "sparsify"
  nlohmann::json options = nlohmann::json::object();  // the command's recipe, nested
  std::string origin;                                 // "recipe.yaml:7"
};

struct CompressionChain {
  std::filesystem::path file;
  nlohmann::json defaults = nlohmann::json::object();  // given to every step that takes them
  std::vector<CompressionStep> steps;
};

// Reads a chain recipe: `steps:` (a list of one-key mappings, command: options) and optional
// `defaults:`. UserErrors name the file and line.
CompressionChain load_chain(const std::filesystem::path& file);

// A step with the effective options its command resolved (dotted keys, as --dump-config prints
// them, flattened), ready to check and run.
struct PlannedStep {
  CompressionStep step;
  nlohmann::json effective = nlohmann::json::object();  // {"sparsify.sparsity": 0.7, ...}
};

// Refuses, before anything runs, a chain whose steps cannot follow each other on a model of
// `config`: a command for another family, sublayers that an earlier step removed or converted,
// pruning by importance without importance results, a split deeper than the encoder. The error
// names the step ("step 3 (linearize, recipe.yaml:9): ...").
void check_chain(const models::TransformerConfig& config, const std::vector<PlannedStep>& steps);

// Where a step runs: <out>/steps/<NN>-<command>.
std::filesystem::path step_dir(const std::filesystem::path& out, size_t index,
                               const std::string& command);

struct StepContext {
  size_t index = 0;                   // from 0
  std::filesystem::path model;        // what the step starts from
  std::filesystem::path dir;          // its run directory
  std::filesystem::path importance;   // results of the latest importance step, if any
  bool resume = false;                // the step began before and was interrupted
};

// Runs one step's command; returns the model it delivers (the input model for a step that only
// measures, such as importance).
using StepRunner = std::function<std::filesystem::path(const PlannedStep&, const StepContext&)>;

struct ChainOutcome {
  std::vector<std::filesystem::path> models;  // delivered by each step
  std::filesystem::path final_model;          // <out>/model
  size_t resumed_steps = 0;                   // found done and skipped
};

// Runs the steps in order into `out`, skipping the ones a previous run finished, records the
// chain in each delivered model and copies the last one to <out>/model.
ChainOutcome run_chain(const std::filesystem::path& model, const std::vector<PlannedStep>& steps,
                       const std::filesystem::path& out, const StepRunner& runner,
                       const std::filesystem::path& recipe);

}  // namespace slimformer::pipeline
