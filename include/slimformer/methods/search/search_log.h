// The search log: one JSON object per line, appended as candidates are claimed and evaluated, so
// that an interrupted search resumes without losing an evaluated candidate and several processes
// can evaluate candidates of one search at once. Every append and every claim happens under an
// exclusive lock of the file (flock). A claim records the process; a claim without a result
// whose process is gone is handed out again, with its architecture, to the next claimant.
//   {"event": "claim", "stage": 1, "index": 3, "architecture": "...", "pid": 123, "host": "..."}
//   {"event": "result", "stage": 1, "index": 3, "architecture": "...", "score": 0.41, ...}
// A last line cut short by a crash is ignored; any other malformed line is an error naming it.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "slimformer/methods/search/sampler.h"

namespace slimformer::methods {

struct SearchClaim {
  int stage = 1;
  int64_t index = 0;
  Architecture architecture;
  std::string region;  // what the sampler drew it from
  bool reclaimed = false;
};

class SearchLog {
 public:
  explicit SearchLog(std::filesystem::path path);
  const std::filesystem::path& path() const { return path_; }

  // Every result line of `stage` (all stages when 0), in log order.
  std::vector<nlohmann::json> results(int stage = 0) const;
  // What a claim asks the sampler for: draw number `index` given the stage's evaluated samples
  // and the architectures taken (evaluated or claimed); the architecture and its region.
  using Proposer = std::function<std::pair<Architecture, std::string>(
      const std::vector<EvaluatedSample>& history, const std::set<std::string>& taken,
      int64_t index)>;
  // Under the lock: a stale claim of `stage` when there is one, otherwise the stage's next index
  // with the architecture `propose` returns; none when `limit` candidates of the stage are
  // claimed or done.
  std::optional<SearchClaim> claim(int stage, int64_t limit, const Proposer& propose);
  // Appends a result line (fields of `result` plus event, stage, index and architecture).
  void record(const SearchClaim& claim, nlohmann::json result);

 private:
  std::vector<nlohmann::json> read_locked() const;
  void append_locked(const nlohmann::json& line) const;
  std::filesystem::path path_;
};

// The evaluated samples of a stage's results, for a sampler.
std::vector<EvaluatedSample> evaluated_samples(const std::vector<nlohmann::json>& results);

}  // namespace slimformer::methods
