#include "slimformer/pipeline/progress_reports.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>

#include "slimformer/core/progress_bar.h"

namespace slimformer::pipeline {

train::TrainCallbacks training_progress(const std::string& label) {
  auto bar = std::make_shared<core::ProgressBar>(label);
  train::TrainCallbacks callbacks;
  callbacks.on_progress = [bar](const train::TrainProgress& p) {
    bar->update(p.step, p.max_steps,
                fmt::format("loss {:.3f} lr {:.2e} {:.0f} tok/s", p.loss, p.learning_rate,
                            p.tokens_per_second));
    if (p.step == p.max_steps) bar->finish();
  };
  callbacks.on_validation = [bar](int64_t step, const train::Metrics& m) {
    bar->finish();
    std::string line;
    for (const auto& [k, v] : m) line += fmt::format(" {} {:.3f}", k, v);
    spdlog::info("step {} validation:{}", step, line);
  };
  return callbacks;
}

std::function<void(int64_t, int64_t, const std::string&)> measurement_progress(
    const std::string& label) {
  auto bar = std::make_shared<core::ProgressBar>(label);
  return [bar](int64_t done, int64_t total, const std::string& name) {
    bar->update(done, total, name);
    if (done == total) bar->finish();
  };
}

std::function<void(const std::string&, const methods::ImportanceProgress&)> importance_progress() {
  // One bar per phase, finished when the next phase starts.
  auto bars = std::make_shared<std::map<std::string, std::unique_ptr<core::ProgressBar>>>();
  auto current = std::make_shared<std::string>();
  return [bars, current](const std::string& phase, const methods::ImportanceProgress& p) {
    if (*current != phase) {
      if (bars->count(*current)) bars->at(*current)->finish();
      *current = phase;
      (*bars)[phase] =
          std::make_unique<core::ProgressBar>(phase == "scores" ? "importance" : phase);
    }
    bars->at(phase)->update(p.done, p.total, p.path.empty() ? p.phase : p.phase + " " + p.path);
    if (p.done == p.total) bars->at(phase)->finish();
  };
}

}  // namespace slimformer::pipeline
