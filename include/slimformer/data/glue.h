// GLUE tasks in the standard TSV layout (the files download_glue_data.py writes): one reader per
// task that knows its columns, header and label encoding. Fields are split on tabs only, with no
// quoting, as the GLUE reference code reads them.
#pragma once

#include <string>
#include <vector>

namespace slimformer::data {

enum class GlueTask { kSst2, kMrpc, kCola, kStsb, kWnli, kQnli };

struct GlueTaskInfo {
  GlueTask task;
  std::string name;                      // "SST-2", "MRPC", ...
  int num_labels;                        // 1: regression (STS-B)
  bool pair;                             // two texts per example
  std::vector<std::string> label_names;  // class i's name in the file ("0", "entailment", ...)
};

// The task by name, case-insensitive ("sst-2", "sst2", "MRPC", "sts-b", ...); a UserError listing
// the tasks otherwise.
const GlueTaskInfo& glue_task(const std::string& name);
const std::vector<GlueTaskInfo>& glue_tasks();

struct GlueExample {
  std::string text_a, text_b;  // text_b empty for single-sentence tasks
  double label = 0;            // class index, or the similarity score for STS-B
};

// Reads a labelled train or dev file. A UserError names the file and line of a row with the wrong
// number of columns or a label outside the task's labels.
std::vector<GlueExample> read_glue(const std::string& path, const GlueTaskInfo& task);

}  // namespace slimformer::data
