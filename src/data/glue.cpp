#include "slimformer/data/glue.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "slimformer/core/error.h"
#include "slimformer/data/text_file.h"

namespace slimformer::data {

namespace {

// Where each task keeps its fields (columns of the labelled files).
struct Layout {
  bool header;
  size_t columns;
  int text_a, text_b, label;  // text_b -1: single sentence
};

Layout layout(GlueTask task) {
  switch (task) {
    case GlueTask::kSst2:  // sentence, label
      return {true, 2, 0, -1, 1};
    case GlueTask::kMrpc:  // Quality, #1 ID, #2 ID, #1 String, #2 String
      return {true, 5, 3, 4, 0};
    case GlueTask::kCola:  // source, label, original label, sentence; no header
      return {false, 4, 3, -1, 1};
    case GlueTask::kStsb:  // index, genre, filename, year, old_index, source1, source2, s1, s2,
                           // score
      return {true, 10, 7, 8, 9};
    case GlueTask::kWnli:  // index, sentence1, sentence2, label
      return {true, 4, 1, 2, 3};
    case GlueTask::kQnli:  // index, question, sentence, label
      return {true, 4, 1, 2, 3};
  }
  return {};
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    size_t tab = line.find('\t', start);
    fields.emplace_back(line, start, tab == std::string::npos ? std::string::npos : tab - start);
    if (tab == std::string::npos) return fields;
    start = tab + 1;
  }
}

std::string normalized_name(const std::string& name) {
  std::string out;
  for (char c : name)
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const std::vector<GlueTaskInfo>& glue_tasks() {
  static const std::vector<GlueTaskInfo> tasks = {
      {GlueTask::kSst2, "SST-2", 2, false, {"0", "1"}},
      {GlueTask::kMrpc, "MRPC", 2, true, {"0", "1"}},
      {GlueTask::kCola, "CoLA", 2, false, {"0", "1"}},
      {GlueTask::kStsb, "STS-B", 1, true, {}},
      {GlueTask::kWnli, "WNLI", 2, true, {"0", "1"}},
      {GlueTask::kQnli, "QNLI", 2, true, {"entailment", "not_entailment"}}};
  return tasks;
}

const GlueTaskInfo& glue_task(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& task : glue_tasks()) {
    if (normalized_name(task.name) == normalized_name(name)) return task;
    names.push_back(task.name);
  }
  throw core::UserError(
      fmt::format("unknown GLUE task {} (expected one of {})", name, fmt::join(names, ", ")));
}

std::vector<GlueExample> read_glue(const std::string& path, const GlueTaskInfo& task) {
  const Layout l = layout(task.task);
  auto lines = read_lines(path);
  std::vector<GlueExample> examples;
  for (size_t i = l.header ? 1 : 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.empty()) continue;
    auto fields = split_tabs(line);
    const size_t line_number = i + 1;
    if (fields.size() != l.columns)
      throw core::UserError(fmt::format("{}:{}: expected {} tab-separated columns for {}, got {}",
                                        path, line_number, l.columns, task.name, fields.size()));
    GlueExample example;
    example.text_a = fields[l.text_a];
    if (l.text_b >= 0) example.text_b = fields[l.text_b];
    const std::string& label = fields[l.label];
    if (task.num_labels == 1) {
      try {
        size_t used = 0;
        example.label = std::stod(label, &used);
        if (used != label.size()) throw std::invalid_argument(label);
      } catch (const std::exception&) {
        throw core::UserError(
            fmt::format("{}:{}: label {:?} is not a number", path, line_number, label));
      }
    } else {
      auto it = std::find(task.label_names.begin(), task.label_names.end(), label);
      if (it == task.label_names.end())
        throw core::UserError(fmt::format("{}:{}: label {:?} is not one of {}", path, line_number,
                                          label, fmt::join(task.label_names, ", ")));
      example.label = static_cast<double>(it - task.label_names.begin());
    }
    examples.push_back(std::move(example));
  }
  if (examples.empty()) throw core::UserError(fmt::format("{}: no examples", path));
  return examples;
}

}  // namespace slimformer::data
