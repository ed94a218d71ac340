#include "slimformer/data/text_task.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "slimformer/core/error.h"
#include "slimformer/data/text_file.h"

namespace slimformer::data {

namespace {

// One row of a file and the line it starts on.
struct Record {
  std::vector<std::string> fields;
  size_t line = 0;
};

// Tab-separated: a line is a row, fields are split on every tab, quotes are text.
std::vector<Record> tab_records(const std::string& text) {
  std::vector<Record> records;
  size_t line = 0, start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++line;
    std::string row = text.substr(start, end - start);
    if (!row.empty() && row.back() == '\r') row.pop_back();
    start = end + 1;
    if (row.empty()) continue;
    Record r{{}, line};
    size_t from = 0;
    while (true) {
      const size_t tab = row.find('\t', from);
      r.fields.emplace_back(row, from, tab == std::string::npos ? std::string::npos : tab - from);
      if (tab == std::string::npos) break;
      from = tab + 1;
    }
    records.push_back(std::move(r));
  }
  return records;
}

// Comma-separated as RFC 4180 writes it: a field may be quoted, with "" for a quote and line
// breaks inside.
std::vector<Record> comma_records(const std::string& text, const std::string& path) {
  std::vector<Record> records;
  Record current;
  std::string field;
  bool quoted = false, row_has_text = false;
  size_t line = 1;
  current.line = 1;
  auto end_row = [&] {
    if (row_has_text) {
      current.fields.push_back(std::move(field));
      records.push_back(std::move(current));
    }
    current = Record{{}, line};
    field.clear();
    row_has_text = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"', ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && field.empty()) {
      quoted = row_has_text = true;
    } else if (c == ',') {
      current.fields.push_back(std::move(field));
      field.clear();
      row_has_text = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      end_row();
    } else {
      field += c;
      row_has_text = true;
    }
  }
  if (quoted)
    throw core::UserError(fmt::format("{}:{}: a quoted field is never closed", path, current.line));
  end_row();
  return records;
}

bool is_column_number(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// The index of `column` (a header name or a column number) among the file's fields.
size_t column_index(const std::string& column, const std::vector<std::string>* header,
                    size_t fields, const std::string& path) {
  if (header) {
    auto it = std::find(header->begin(), header->end(), column);
    if (it != header->end()) return size_t(it - header->begin());
  }
  if (is_column_number(column) && std::stoull(column) < fields) return std::stoull(column);
  if (!header)
    throw core::UserError(fmt::format(
        "{}: column {:?} is not a column number below {} (the file has no header to name "
        "columns)",
        path, column, fields));
  throw core::UserError(fmt::format("{}: no column {:?} (the header names {})", path, column,
                                    fmt::join(*header, ", ")));
}

}  // namespace

void TextTask::check(const std::string& where) const {
  auto fail = [&](const std::string& why) {
    throw core::UserError(fmt::format("{}: {}", where, why));
  };
  if (name.empty()) fail("the task needs a name");
  if (text_columns.empty() || text_columns.size() > 2)
    fail(fmt::format("a task has one or two text columns, got {}", text_columns.size()));
  if (label_column.empty()) fail("the task needs a label column");
  if (delimiter != '\t' && delimiter != ',') fail("the delimiter is a tab or a comma");
  if (labels.size() == 1) fail("a classification task needs at least two labels");
  for (size_t i = 0; i < labels.size(); ++i)
    if (std::find(labels.begin(), labels.begin() + i, labels[i]) != labels.begin() + i)
      fail(fmt::format("label {:?} is given twice", labels[i]));
  static const std::vector<std::string> metrics = {"accuracy", "f1", "mcc", "pearson", "spearman"};
  if (std::find(metrics.begin(), metrics.end(), metric) == metrics.end())
    fail(fmt::format("metric {} is not one of {}", metric, fmt::join(metrics, ", ")));
  const bool score_metric = metric == "pearson" || metric == "spearman";
  if (regression() && !score_metric)
    fail(fmt::format("a regression task (no labels) is scored by pearson or spearman, not {}",
                     metric));
  if (!regression() && score_metric)
    fail(fmt::format("{} scores a regression task; this one has labels", metric));
  if ((metric == "f1" || metric == "mcc") && labels.size() != 2)
    fail(fmt::format("{} needs exactly two labels, got {}", metric, labels.size()));
}

nlohmann::json TextTask::to_json() const {
  return {{"name", name},
          {"text_columns", text_columns},
          {"label_column", label_column},
          {"labels", labels},
          {"header", header},
          {"delimiter", delimiter == ',' ? "comma" : "tab"},
          {"metric", metric}};
}

TextTask TextTask::from_json(const nlohmann::json& j, const std::string& where) {
  TextTask t;
  for (const char* key : {"name", "text_columns", "label_column"})
    if (!j.is_object() || !j.contains(key))
      throw core::UserError(fmt::format("{}: the task record has no {}", where, key));
  try {
    t.name = j.at("name").get<std::string>();
    t.text_columns = j.at("text_columns").get<std::vector<std::string>>();
    t.label_column = j.at("label_column").get<std::string>();
    t.labels = j.value("labels", std::vector<std::string>{});
    t.header = j.value("header", true);
    const std::string delimiter = j.value("delimiter", std::string("tab"));
    if (delimiter != "tab" && delimiter != "comma")
      throw core::UserError(
          fmt::format("{}: delimiter {:?} is not tab or comma", where, delimiter));
    t.delimiter = delimiter == "comma" ? ',' : '\t';
    t.metric = j.value("metric", std::string("accuracy"));
  } catch (const nlohmann::json::exception& e) {
    throw core::UserError(fmt::format("{}: the task record is malformed ({})", where, e.what()));
  }
  t.check(where);
  return t;
}

TextTaskRows read_text_task(const std::string& path, const TextTask& task, bool skip_malformed) {
  const std::string text = read_text(path);
  auto records = task.delimiter == ',' ? comma_records(text, path) : tab_records(text);
  if (records.empty()) throw core::UserError(fmt::format("{}: no rows", path));
  std::optional<std::vector<std::string>> header;
  if (task.header) {
    header = records.front().fields;
    auto& first = header->front();
    if (first.rfind("\xEF\xBB\xBF", 0) == 0) first.erase(0, 3);  // a UTF-8 byte order mark
  }
  const size_t fields = records.front().fields.size();
  const std::vector<std::string>* names = header ? &*header : nullptr;
  std::vector<size_t> text_index;
  for (const auto& column : task.text_columns)
    text_index.push_back(column_index(column, names, fields, path));
  const size_t label_index = column_index(task.label_column, names, fields, path);

  const char* separated = task.delimiter == ',' ? "comma" : "tab";
  TextTaskRows out;
  for (size_t r = header ? 1 : 0; r < records.size(); ++r) {
    const Record& record = records[r];
    std::string problem;
    TextExample example;
    if (record.fields.size() != fields) {
      problem = fmt::format("expected {} {}-separated columns for {}, got {}", fields, separated,
                            task.name, record.fields.size());
    } else {
      example.text_a = record.fields[text_index[0]];
      if (task.pair()) example.text_b = record.fields[text_index[1]];
      const std::string& label = record.fields[label_index];
      if (task.regression()) {
        size_t used = 0;
        try {
          example.label = std::stod(label, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != label.size())
          problem = fmt::format("label {:?} is not a number", label);
      } else {
        auto it = std::find(task.labels.begin(), task.labels.end(), label);
        if (it == task.labels.end())
          problem = fmt::format("label {:?} is not one of {}", label, fmt::join(task.labels, ", "));
        example.label = double(it - task.labels.begin());
      }
    }
    if (problem.empty()) {
      out.examples.push_back(std::move(example));
      continue;
    }
    const std::string where = fmt::format("{}:{}: {}", path, record.line, problem);
    if (!skip_malformed) throw core::UserError(where);
    if (out.skipped++ == 0) out.first_skipped = where;
  }
  if (out.examples.empty()) throw core::UserError(fmt::format("{}: no examples", path));
  return out;
}

}  // namespace slimformer::data
