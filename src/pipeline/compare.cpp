#include "slimformer/pipeline/compare.h"

#include <fmt/format.h>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/core/process_memory.h"
#include "slimformer/pipeline/compress.h"

namespace slimformer::pipeline {

namespace fs = std::filesystem;

report::Comparison compare_models(const std::vector<NamedModel>& models,
                                  const CompareOptions& options) {
  if (options.measure.latency_examples <= 0)
    throw core::UserError("--latency-examples must be at least 1");
  auto measured = measure_models(models, options.measure);
  report::Comparison c;
  c.title = options.title;
  c.metric = measured.front().metric;
  c.metric_label = metric_label(c.metric);
  c.higher_is_better = measured.front().higher_is_better;
  for (const auto& m : measured) {
    report::ComparedVariant v;
    v.name = m.name, v.dir = m.dir.string();
    v.parameters = m.parameters, v.disk_mb = m.disk_mb;
    v.value = m.value, v.metrics = m.metrics;
    v.latency_ms = m.latency_ms;
    v.latency_rounds_ms = m.latency_rounds_ms;
    v.examples_per_second = double(m.examples) / m.seconds;
    v.chain = chain_labels(train::read_record(m.dir));
    if (options.peak_memory_mb) v.peak_mb = options.peak_memory_mb(m.dir);
    c.variants.push_back(std::move(v));
  }
  report::mark_frontiers(c);
  return c;
}

nlohmann::json comparison_json(const report::Comparison& c) {
  nlohmann::json variants = nlohmann::json::array();
  for (const auto& v : c.variants)
    variants.push_back({{"name", v.name},
                        {"dir", v.dir},
                        {"parameters", v.parameters},
                        {"disk_mb", v.disk_mb},
                        {"value", v.value},
                        {"metrics", v.metrics},
                        {"latency_ms", v.latency_ms},
                        {"latency_ms_rounds", v.latency_rounds_ms},
                        {"latency_spread", report::latency_spread(v)},
                        {"examples_per_second", v.examples_per_second},
                        {"peak_mb", v.peak_mb},
                        {"chain", v.chain},
                        {"optimal_for_latency", v.optimal_for_latency},
                        {"optimal_for_size", v.optimal_for_size}});
  return {{"metric", c.metric},
          {"higher_is_better", c.higher_is_better},
          {"description", c.description},
          {"variants", variants}};
}

void write_comparison(const report::Comparison& c, const fs::path& out,
                      const nlohmann::json& extra) {
  fs::create_directories(out);
  auto json = comparison_json(c);
  json.update(extra);
  core::write_text_atomically(out / "results.json", json.dump(2) + "\n");
  core::write_text_atomically(out / "report.html", report::comparison_html(c));
}

MemoryProbe probe_memory(const fs::path& model, const EvaluationOptions& options,
                         int64_t latency_examples) {
  MemoryProbe probe;
  probe.baseline_mb = core::resident_mb();
  auto loaded = train::load_model(model, options.device);
  auto one_at_a_time = options;
  one_at_a_time.one_at_a_time = true;
  one_at_a_time.samples = latency_examples;
  make_evaluator(loaded, one_at_a_time, model.string())->evaluate({});
  make_evaluator(loaded, options, model.string())->evaluate({});
  probe.peak_mb = core::peak_resident_mb();
  return probe;
}

}  // namespace slimformer::pipeline
