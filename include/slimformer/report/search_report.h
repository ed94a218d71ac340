// The report of an FFN search (slimformer report on a search directory): per stage and sampler
// the candidates' scores against their FFN parameters, the best score against the number of
// candidates evaluated (a learned sampler against random), the best expression of each layer,
// and the stage's cost.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace slimformer::report {

struct SearchSummary {
  std::string label;  // the run's name in the report
  int stage = 0;
  int64_t candidates = 0;
  double best_score = 0, median_score = 0, seconds = 0;
  std::string best_architecture;
};

// Writes <runs[0].second>/report.html from each run's search_log.jsonl (label, run directory)
// and returns one summary per run and stage. A UserError when a run has no log.
std::vector<SearchSummary> write_search_report(
    const std::vector<std::pair<std::string, std::filesystem::path>>& runs);

}  // namespace slimformer::report
