// slimformer compare: measures every given variant of a model side by side in one run (metric,
// parameters, size on disk, latency at batch 1, throughput at a batch, peak memory), marks the
// Pareto-optimal ones on the accuracy-latency and accuracy-size frontiers, and writes an HTML
// report with both frontiers and a JSON file for scripts.
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command_line.h"
#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/core/runtime.h"
#include "slimformer/pipeline/compare.h"
#include "surgery_setup.h"

extern char** environ;

namespace slimformer::tools {

namespace fs = std::filesystem;

namespace {

// Runs this program again with the same arguments plus --memory-probe: a fresh process whose peak
// resident memory is the model's alone. Returns 0 MB (not measured) if the probe fails.
double probe_in_child(const fs::path& model, const fs::path& out, size_t index) {
  const fs::path result = out / fmt::format("memory-probe-{}.json", index);
  std::vector<std::string> args = command_arguments();
  args.insert(args.end(), {"--memory-probe", model.string(), "--probe-output", result.string()});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) return 0;
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !fs::exists(result)) {
    fmt::print(stderr, "warning: the memory probe of {} failed; peak memory not measured\n",
               model.string());
    return 0;
  }
  const auto probe = nlohmann::json::parse(core::read_file(result));
  fs::remove(result);
  return probe.at("peak_mb").get<double>();
}

}  // namespace

void register_compare(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compare", "measure variants of a model side by side; frontiers of accuracy, speed, size");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  auto models = std::make_shared<std::vector<std::string>>();
  auto probe = std::make_shared<std::string>();
  auto probe_output = std::make_shared<std::string>();
  common->add_to(cmd);
  cmd->add_option("models", *models, "checkpoint directories of one family (two or more)");
  options->add("compare.names", "",
               "names of the variants in the report, comma-separated (default: their directories)",
               "--names");
  options->add("compare.latency_examples", 100,
               "examples timed one at a time for the latency at batch 1", "--latency-examples");
  options->add("compare.max_tokens", 4096, "tokens per batch for the batched evaluation",
               "--max-tokens");
  options->add("compare.memory", true,
               "measure each variant's peak memory in a process of its own (--memory=false: skip)",
               "--memory");
  add_test_options(*options);
  options->add("output", "runs/compare", "where results.json and report.html go", "--output");
  cmd->add_option("--memory-probe", *probe, "(internal) measure one model's memory and exit")
      ->group("");
  cmd->add_option("--probe-output", *probe_output, "(internal) where the probe writes")->group("");
  cmd->callback([=] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    const auto device = core::parse_device(common->device);
    if (models->empty() && probe->empty())
      throw core::UserError("compare: give the checkpoint directories of the variants");
    const fs::path first = probe->empty() ? fs::path(models->front()) : fs::path(*probe);
    if (!fs::exists(first / "config.json"))
      throw core::UserError(fmt::format("{}: not a checkpoint directory (no config.json)",
                                        first.string()));
    pipeline::CompareOptions o;
    o.measure = measure_options(
        s, models::TransformerConfig::load((first / "config.json").string()), device);
    o.measure.evaluation.max_tokens = s.get_int_at_least("compare.max_tokens", 1);
    o.measure.latency_examples = s.get_int_at_least("compare.latency_examples", 1);
    if (!probe->empty()) {
      const auto measured =
          pipeline::probe_memory(*probe, o.measure.evaluation, o.measure.latency_examples);
      core::write_text_atomically(*probe_output,
                                  nlohmann::json{{"baseline_mb", measured.baseline_mb},
                                                 {"peak_mb", measured.peak_mb}}
                                      .dump());
      return;
    }
    auto names = get_list(s, "compare.names");
    if (!names.empty() && names.size() != models->size())
      throw core::UserError(fmt::format("--names gives {} names for {} models", names.size(),
                                        models->size()));
    std::vector<pipeline::NamedModel> named;
    for (size_t i = 0; i < models->size(); ++i) {
      if (!fs::exists(fs::path((*models)[i]) / "config.json"))
        throw core::UserError(fmt::format("{}: not a checkpoint directory (no config.json)",
                                          (*models)[i]));
      named.emplace_back(names.empty() ? (*models)[i] : names[i], (*models)[i]);
    }
    const fs::path out = s.get_string("output");
    fs::create_directories(out);
    if (s.get_bool("compare.memory")) {
      auto index = std::make_shared<size_t>(0);
      o.peak_memory_mb = [out, index](const fs::path& model) {
        return probe_in_child(model, out, (*index)++);
      };
    }
    auto comparison = pipeline::compare_models(named, o);
    comparison.description = fmt::format(
        "{} variants; {} Latency: the first {} examples one at a time, in ms per example. "
        "Throughput: the whole set in batches of {} tokens. {}Pareto-optimal: no other variant "
        "is at least as accurate and at least as fast (or small), and better in one.",
        named.size(), measurement_description(o.measure), o.measure.latency_examples,
        o.measure.evaluation.max_tokens,
        o.peak_memory_mb ? "Peak memory: the peak resident set of a process that loads the "
                           "variant and runs both (LibTorch included). "
                         : "");
    pipeline::write_comparison(comparison, out,
                               {{"command", command_line()}, {"options", s.to_nested_json()}});
    fmt::print("{:<28} {:>9} {:>11} {:>8} {:>10} {:>11} {:>8}  {}\n", "variant",
               comparison.metric_label, "parameters", "MB", "ms/example", "examples/s", "peak MB",
               "Pareto (latency, size)");
    for (const auto& v : comparison.variants)
      fmt::print("{:<28} {:>9.2f} {:>11} {:>8.1f} {:>10.2f} {:>11.1f} {:>8.0f}  {}{}\n", v.name,
                 v.value, v.parameters, v.disk_mb, v.latency_ms, v.examples_per_second,
                 v.peak_mb, v.optimal_for_latency ? "latency " : "",
                 v.optimal_for_size ? "size" : "");
    fmt::print("wrote {0}/results.json and {0}/report.html\n", out.string());
  });
}

}  // namespace slimformer::tools
