// GLUE's tasks as TextTask presets (data/text_task.h), in the layouts of the files
// download_glue_data.py writes, each with its standard metric, and where a task's files are in a
// GLUE directory (<dir>/<folder>/train.tsv[.gz], dev.tsv[.gz]; MNLI's dev sets are dev_matched
// and dev_mismatched).
#pragma once

#include <string>
#include <vector>

#include "slimformer/data/text_task.h"

namespace slimformer::data {

// Every GLUE task: CoLA, SST-2, MRPC, STS-B, QQP, MNLI (matched), MNLI-MM (mismatched), QNLI,
// RTE, WNLI.
const std::vector<TextTask>& glue_tasks();
// The task by name, case and punctuation aside ("sst2", "STS-B", "mnli-mm"); a UserError listing
// the tasks otherwise.
const TextTask& glue_task(const std::string& name);
// Whether `name` names a GLUE task.
bool is_glue_task(const std::string& name);
// The file of `split` ("train" or "dev") of a GLUE task under `glue_dir`, compressed or not; a
// UserError naming the folder when it is missing.
std::string glue_file(const std::string& glue_dir, const TextTask& task, const std::string& split);

}  // namespace slimformer::data
