#include "slimformer/pipeline/measure.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"

namespace slimformer::pipeline {

namespace fs = std::filesystem;

std::string metric_label(const std::string& metric) {
  if (metric == "bleu") return "BLEU";
  if (metric == "chrf") return "chrF2";
  if (metric == "exact_match") return "EM";
  if (metric == "f1") return "F1";
  return metric;
}

std::vector<MeasuredModel> measure_models(const std::vector<NamedModel>& models,
                                          const MeasureOptions& options) {
  if (models.empty()) throw core::UserError("no models to measure");
  std::vector<train::LoadedModel> loaded;
  std::vector<std::unique_ptr<eval::ModelEvaluator>> evaluators;
  std::vector<MeasuredModel> measured;
  for (const auto& [name, dir] : models) {
    loaded.push_back(train::load_model(dir, options.evaluation.device));
    const auto& first = loaded.front().model->config();
    const auto& config = loaded.back().model->config();
    if (config.model_type != first.model_type || config.encoder_head != first.encoder_head)
      throw core::UserError(fmt::format("{} is {}, and {} is {}: measure models of one family",
                                        dir.string(), family_description(config),
                                        models.front().second.string(), family_description(first)));
    MeasuredModel m;
    m.name = name, m.dir = dir;
    m.parameters = loaded.back().model->num_parameters();
    m.removed = config.removed_sublayers;
    m.disk_mb = core::directory_bytes(dir) / 1e6;
    m.seconds = INFINITY;
    measured.push_back(m);
  }
  // Evaluators hold references into `loaded`, complete now.
  auto one_at_a_time = options.evaluation;
  one_at_a_time.one_at_a_time = true;
  one_at_a_time.samples = options.latency_examples;
  std::vector<std::unique_ptr<eval::ModelEvaluator>> latency_evaluators;
  for (size_t i = 0; i < models.size(); ++i) {
    const std::string name = models[i].second.string();
    evaluators.push_back(make_evaluator(loaded[i], options.evaluation, name));
    if (options.latency_examples > 0)
      latency_evaluators.push_back(make_evaluator(loaded[i], one_at_a_time, name));
  }
  auto timed = [](eval::ModelEvaluator& evaluator, double& value) {
    auto start = std::chrono::steady_clock::now();
    value = evaluator.evaluate({});
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const int64_t repeats = std::max<int64_t>(options.repeats, 1);
  const int64_t total = repeats * static_cast<int64_t>(models.size());
  for (int64_t round = 0; round < repeats; ++round) {
    for (size_t i = 0; i < models.size(); ++i) {
      auto& m = measured[i];
      double value = 0;
      m.seconds = std::min(m.seconds, timed(*evaluators[i], value));
      if (round == 0) {
        m.metric = evaluators[i]->metric();
        m.higher_is_better = evaluators[i]->higher_is_better();
        m.value = value;
        m.metrics = evaluators[i]->details();
        m.metrics[m.metric] = value;
        m.examples = evaluators[i]->examples();
      }
      if (!latency_evaluators.empty()) {
        auto& evaluator = *latency_evaluators[i];
        double ignored = 0;
        const double ms = 1e3 * timed(evaluator, ignored) / double(evaluator.examples());
        m.latency_ms = round == 0 ? ms : std::min(m.latency_ms, ms);
        m.latency_rounds_ms.push_back(ms);
        m.latency_examples = evaluator.examples();
      }
      if (options.on_progress)
        options.on_progress(round * int64_t(models.size()) + int64_t(i) + 1, total, m.name);
    }
  }
  return measured;
}

nlohmann::json measurements_json(const std::vector<MeasuredModel>& measured) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : measured) {
    out.push_back({{"name", m.name},
                   {"dir", m.dir.string()},
                   {"parameters", m.parameters},
                   {"removed_sublayers", m.removed},
                   {"disk_mb", m.disk_mb},
                   {"metric", m.metric},
                   {"value", m.value},
                   {"metrics", m.metrics},
                   {"examples", m.examples},
                   {"seconds", m.seconds},
                   {"speedup", measured.front().seconds / m.seconds}});
    if (m.latency_examples > 0) {
      out.back()["latency_ms"] = m.latency_ms;
      out.back()["latency_examples"] = m.latency_examples;
    }
  }
  return out;
}

std::vector<std::string> measurement_header(const std::vector<MeasuredModel>& measured) {
  std::vector<std::string> header = {"model", "parameters", "MB on disk"};
  for (const auto& [name, value] : measured.front().metrics) header.push_back(metric_label(name));
  header.push_back(measured.front().metric == "bleu" || measured.front().metric == "chrf"
                       ? "decode s"
                       : "eval s");
  header.push_back("speed-up");
  return header;
}

std::vector<std::vector<std::string>> measurement_rows(const std::vector<MeasuredModel>& measured) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : measured) {
    std::vector<std::string> row = {m.name, fmt::format("{}", m.parameters),
                                    fmt::format("{:.1f}", m.disk_mb)};
    for (const auto& [name, value] : measured.front().metrics)
      row.push_back(m.metrics.count(name) ? fmt::format("{:.2f}", m.metrics.at(name)) : "-");
    row.push_back(fmt::format("{:.2f}", m.seconds));
    row.push_back(fmt::format("{:.2f}x", measured.front().seconds / m.seconds));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace slimformer::pipeline
