// Sentence and sentence-pair tasks read from a delimited file: which columns hold the text(s) and
// the label, the label set (or a regression score), and the metric a checkpoint is chosen by.
// GLUE's tasks are presets of it (data/glue.h); a user names the columns of their own file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace slimformer::data {

struct TextTask {
  std::string name;                       // "SST-2", or the user's name for the task
  std::vector<std::string> text_columns;  // one or two: header names, or 0-based column numbers
  std::string label_column;               // a header name or a 0-based column number
  std::vector<std::string> labels;        // class names as the file writes them; none: a score
  bool header = true;                     // the first line names the columns
  // '\t': fields split on tabs with no quoting, as GLUE's files are read; ',': CSV, where a field
  // may be "quoted" (with "" for a quote, and line breaks inside).
  char delimiter = '\t';
  // The score a checkpoint is chosen by: accuracy, f1 (of the second label), mcc (two labels),
  // or pearson (a score).
  std::string metric = "accuracy";

  bool pair() const { return text_columns.size() == 2; }
  bool regression() const { return labels.empty(); }
  int64_t num_labels() const { return regression() ? 1 : int64_t(labels.size()); }
  // A UserError naming `where` (a file, an option) for what does not fit together.
  void check(const std::string& where) const;
  nlohmann::json to_json() const;
  static TextTask from_json(const nlohmann::json& j, const std::string& where);
};

struct TextExample {
  std::string text_a, text_b;  // text_b empty for single-sentence tasks
  double label = 0;            // class index, or the score of a regression task
};

struct TextTaskRows {
  std::vector<TextExample> examples;
  int64_t skipped = 0;        // malformed rows left out (with skip_malformed)
  std::string first_skipped;  // "FILE:LINE: why" of the first of them
};

// Reads a labelled file. A row with the wrong number of fields or a label outside the task's is a
// UserError naming the file and line, or, with `skip_malformed`, left out and counted.
TextTaskRows read_text_task(const std::string& path, const TextTask& task,
                            bool skip_malformed = false);

}  // namespace slimformer::data
