// slimformer quickstart: the flagship pipeline on the bundled model and data. Scores every
// sublayer of the bundled Multi30k English-German model on a validation subset (Wang & Tu's
// contribution and criticality), removes the least important ones, fine-tunes briefly, and
// measures original, pruned and fine-tuned models side by side on test2016; writes
// results.json and report.html with the heat maps.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "command_line.h"
#include "commands.h"
#include "importance_setup.h"
#include "slimformer/core/files.h"
#include "slimformer/core/runtime.h"
#include "slimformer/methods/surgery/module_surgery.h"
#include "slimformer/pipeline/evaluation.h"
#include "slimformer/pipeline/importance_run.h"
#include "slimformer/pipeline/surgery.h"
#include "slimformer/report/importance_report.h"
#include "surgery_setup.h"
#include "training_setup.h"

namespace slimformer::tools {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void run_quickstart(const core::Settings& s, const CommonOptions& common) {
  const auto device = core::parse_device(common.device);
  auto info = core::runtime_info();
  fmt::print("== runtime\nLibTorch {} on {} ({}), {} BLAS threads, {:.0f} GFLOP/s float32 matmul\n",
             info.libtorch_version, info.blas_is_openblas ? "OpenBLAS" : "a non-OpenBLAS BLAS",
             info.blas_library, info.openblas_threads, core::measure_matmul_gflops(512, 20));

  const fs::path model_dir = s.get_string("quickstart.model"), out = s.get_string("output");
  auto model = train::load_model(model_dir, device);
  const auto& c = model.model->config();
  fmt::print("\n== model {}\n{}, {}+{} layers, d_model {}, {} parameters, {:.1f} MB on disk\n",
             model_dir.string(), pipeline::family_description(c), c.encoder_layers,
             c.decoder_layers, c.d_model, model.model->num_parameters(),
             core::directory_bytes(model_dir) / 1e6);
  // The pipeline's own outputs are replaced on every run.
  for (const char* sub : {"importance", "pruned", "finetune"}) fs::remove_all(out / sub);

  const auto evaluation = importance_evaluation(s, c, device);
  fmt::print("\n== importance of every sublayer ({} examples)\n", s.get_int("data.samples"));
  auto evaluator = pipeline::make_evaluator(model, evaluation, model_dir.string());
  auto importance =
      pipeline::run_importance(*model.model, model.init, *evaluator, importance_run_options(s),
                               out / "importance", {{"model", model_dir.string()}});
  fmt::print("full model {} {:.2f}; {} evaluations in {:.0f} s\n", importance.metric,
             importance.baseline, importance.evaluations.size(), importance.seconds);
  for (const auto& e : importance.sublayers)
    fmt::print("  {:<28} {}  contribution {:.2f}  criticality {:.2f}\n", e.path, e.place.label,
               e.contribution, e.criticality);

  const int64_t k = s.get_int_at_least("quickstart.remove", 1);
  const auto by = s.get_choice("quickstart.by", {"contribution", "criticality"});
  const auto removed = methods::least_important(importance, by, k);
  fmt::print("\n== removing the {} least important by {}: {}\n", k, by, fmt::join(removed, ", "));
  methods::remove_sublayers(*model.model, removed);
  pipeline::save_changed_model(out / "pruned", model, {{"pruned_by", command_line()}});

  const int64_t steps = s.get_int_at_least("quickstart.finetune_steps", 0);
  std::vector<pipeline::NamedModel> models = {{"original", model_dir}, {"pruned", out / "pruned"}};
  if (steps > 0) {
    fmt::print("\n== fine-tuning the pruned model for {} updates\n", steps);
    models.push_back({fmt::format("pruned + {} updates", steps),
                      pipeline::finetune_to_model(out / "pruned", out / "finetune", steps,
                                                  finetune_data(s, model_dir),
                                                  training_run(s, common, "fine-tune"))});
  }

  const auto measure = measure_options(s, c, device);
  fmt::print("\n== side by side on {}\n", measure.evaluation.source);
  auto measured = pipeline::measure_models(models, measure);
  print_measurements(measured);

  json results = {{"model", model_dir.string()},
                  {"blas", info.blas_library},
                  {"importance_dir", (out / "importance").string()},
                  {"removed", removed},
                  {"removed_by", by},
                  {"finetune_steps", steps},
                  {"models", pipeline::measurements_json(measured)},
                  {"command", command_line()},
                  {"options", s.to_nested_json()}};
  core::write_text_atomically(out / "results.json", results.dump(2) + "\n");

  report::HtmlReport html("slimformer quickstart");
  html.paragraph(
      fmt::format("Model {}: {}+{} layers, d_model {}, {} parameters. Runtime: LibTorch {} on {}.",
                  model_dir.string(), c.encoder_layers, c.decoder_layers, c.d_model,
                  measured.front().parameters, info.libtorch_version, info.blas_library));
  html.heading(fmt::format("Pruned: the {} least important sublayers by {} removed", k, by));
  html.paragraph(
      fmt::format("Removed {}; {}", fmt::join(removed, ", "), measurement_description(measure)));
  html.table(pipeline::measurement_header(measured), pipeline::measurement_rows(measured));
  html.heading("Sublayer importance");
  report::add_importance_sections(html, importance, out / "importance");
  html.save(out / "report.html");
  fmt::print("\nwrote {0}/results.json and {0}/report.html\n", out.string());
}

}  // namespace

void register_quickstart(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "quickstart",
      "the flagship pipeline on the bundled model: importance, module pruning, fine-tuning, "
      "side-by-side measurement, report");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  options->add("quickstart.model", "models/multi30k-base", "checkpoint directory", "--model");
  options->add("quickstart.remove", 2, "remove this many of the least important sublayers",
               "--remove");
  options->add("quickstart.by", "contribution", "rank by contribution or criticality", "--by");
  options->add("quickstart.finetune_steps", 60, "fine-tuning updates after removal (0: none)",
               "--finetune-steps");
  add_importance_options(*options);
  options->set_default("data.samples", 200);
  options->set_default("importance.curve_max_k", 4);
  add_test_options(*options);
  add_finetune_options(*options);
  options->set_default("train.validate_every", 60);
  options->set_default("output", "runs/quickstart");
  cmd->callback([options, common] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    run_quickstart(s, *common);
  });
}

}  // namespace slimformer::tools
