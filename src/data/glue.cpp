#include "slimformer/data/glue.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <filesystem>

#include "slimformer/core/error.h"

namespace slimformer::data {

namespace {

std::string normalized_name(const std::string& name) {
  std::string out;
  for (char c : name)
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

TextTask preset(std::string name, std::vector<std::string> texts, std::string label,
                std::vector<std::string> labels, std::string metric, bool header = true) {
  TextTask t;
  t.name = std::move(name);
  t.text_columns = std::move(texts);
  t.label_column = std::move(label);
  t.labels = std::move(labels);
  t.metric = std::move(metric);
  t.header = header;
  return t;
}

}  // namespace

const std::vector<TextTask>& glue_tasks() {
  static const std::vector<TextTask> tasks = {
      // source, label, original label, sentence; no header
      preset("CoLA", {"3"}, "1", {"0", "1"}, "mcc", /*header=*/false),
      preset("SST-2", {"sentence"}, "label", {"0", "1"}, "accuracy"),
      preset("MRPC", {"#1 String", "#2 String"}, "Quality", {"0", "1"}, "f1"),
      preset("STS-B", {"sentence1", "sentence2"}, "score", {}, "pearson"),
      preset("QQP", {"question1", "question2"}, "is_duplicate", {"0", "1"}, "f1"),
      preset("MNLI", {"sentence1", "sentence2"}, "gold_label",
             {"contradiction", "entailment", "neutral"}, "accuracy"),
      preset("MNLI-MM", {"sentence1", "sentence2"}, "gold_label",
             {"contradiction", "entailment", "neutral"}, "accuracy"),
      preset("QNLI", {"question", "sentence"}, "label", {"entailment", "not_entailment"},
             "accuracy"),
      preset("RTE", {"sentence1", "sentence2"}, "label", {"entailment", "not_entailment"},
             "accuracy"),
      preset("WNLI", {"sentence1", "sentence2"}, "label", {"0", "1"}, "accuracy")};
  return tasks;
}

bool is_glue_task(const std::string& name) {
  for (const auto& task : glue_tasks())
    if (normalized_name(task.name) == normalized_name(name)) return true;
  return false;
}

const TextTask& glue_task(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& task : glue_tasks()) {
    if (normalized_name(task.name) == normalized_name(name)) return task;
    names.push_back(task.name);
  }
  throw core::UserError(
      fmt::format("unknown GLUE task {} (expected one of {})", name, fmt::join(names, ", ")));
}

std::string glue_file(const std::string& glue_dir, const TextTask& task, const std::string& split) {
  namespace fs = std::filesystem;
  const bool mnli = task.name == "MNLI" || task.name == "MNLI-MM";
  const fs::path dir = fs::path(glue_dir) / (mnli ? "MNLI" : task.name);
  std::string base = split;
  if (mnli && split == "dev") base = task.name == "MNLI" ? "dev_matched" : "dev_mismatched";
  for (const char* suffix : {".tsv.gz", ".tsv"})
    if (fs::exists(dir / (base + suffix))) return (dir / (base + suffix)).string();
  throw core::UserError(fmt::format("{} has no {}.tsv or {}.tsv.gz", dir.string(), base, base));
}

}  // namespace slimformer::data
