// slimformer report: rebuilds the HTML report and SVG figures of an importance run from its
// results.json, optionally comparing its scores with another run's (a second training seed); or
// draws an FFN search from its log, optionally beside another search (the random control).
#include <fmt/format.h>

#include <optional>

#include "commands.h"
#include "options.h"
#include "slimformer/methods/importance/importance_io.h"
#include "slimformer/report/importance_report.h"
#include "slimformer/report/search_report.h"

namespace slimformer::tools {

void register_report(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "report", "rebuild an importance run's report from results.json, or draw an FFN search");
  auto run_dir = std::make_shared<std::string>();
  auto compare = std::make_shared<std::string>();
  auto label = std::make_shared<std::string>();
  cmd->add_option("run", *run_dir, "importance run or search directory")->required();
  cmd->add_option("--compare", *compare,
                  "another importance run (e.g. a second seed) to correlate the scores with, or "
                  "another search (e.g. the random sampler's) to draw beside it");
  cmd->add_option("--compare-label", *label, "how the report names the other run");
  add_recipe_flags(cmd);
  cmd->callback([=] {
    if (std::filesystem::exists(std::filesystem::path(*run_dir) / "search_log.jsonl")) {
      std::vector<std::pair<std::string, std::filesystem::path>> runs = {{*run_dir, *run_dir}};
      if (!compare->empty()) runs.emplace_back(label->empty() ? *compare : *label, *compare);
      for (const auto& s : report::write_search_report(runs))
        fmt::print("{} stage {}: {} candidates, best {:.4f}, median {:.4f}, {:.1f} min\n  {}\n",
                   s.label, s.stage, s.candidates, s.best_score, s.median_score, s.seconds / 60,
                   s.best_architecture);
      fmt::print("wrote {}/report.html\n", *run_dir);
      return;
    }
    auto result = methods::load_importance(*run_dir);
    std::optional<methods::ImportanceResult> other;
    if (!compare->empty()) other = methods::load_importance(*compare);
    const std::string other_label = label->empty() ? *compare : *label;
    report::write_importance_report(result, *run_dir, other ? &*other : nullptr, other_label);
    for (const auto& a :
         report::importance_agreement(result, other ? &*other : nullptr, other_label))
      fmt::print("Spearman {}: {:.3f} over {} sublayers\n", a.what, a.spearman, a.sublayers);
    fmt::print("wrote {}/report.html\n", *run_dir);
  });
}

}  // namespace slimformer::tools
