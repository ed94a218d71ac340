// What a checkpoint's slimformer.json says of the run that made it: the task a classification
// encoder was fine-tuned on, the SQuAD split and windows of a span encoder, the chain of
// compressions. Records are JSON a user may edit by hand: a field of the wrong type is a
// UserError naming `source` (the record's file) and the field; a field that is missing takes its
// default.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "slimformer/data/squad_windows.h"
#include "slimformer/data/text_task.h"
#include "slimformer/models/transformer_config.h"

namespace slimformer::pipeline {

struct SquadRunOptions {
  std::string file = "data/squad/dev-v1.1.json.gz";
  int64_t held_out_articles = 8;
  int64_t valid_articles = 2;
  data::SquadWindowOptions windows;
  int64_t max_answer_length = 30;
};

// The options as a fine-tuning run records them in its checkpoint (slimformer.json "task").
nlohmann::json squad_options_json(const SquadRunOptions& options);

// The options a fine-tuning run recorded in its checkpoint (slimformer.json), defaults where it
// has none, windows no longer than the model's positions.
SquadRunOptions squad_options_of_run(const nlohmann::json& record,
                                     const models::TransformerConfig& model,
                                     const std::string& source = "slimformer.json");

// What a classification encoder's record says of the task it was fine-tuned on.
struct RecordedTextTask {
  std::optional<data::TextTask> task;  // none if unknown
  bool glue = false;                   // a GLUE task (its files are under a GLUE directory)
  std::string train_file, dev_file;    // the files it was fine-tuned with, where recorded
  // The file of `split` ("train" or "dev"): the GLUE task's under `glue_dir`, or the recorded
  // one; empty when there is neither.
  std::string split_file(const std::string& split, const std::string& glue_dir) const;
};
RecordedTextTask recorded_text_task(const nlohmann::json& record,
                                    const std::string& source = "slimformer.json");
// The record of a fine-tuning run on `task` with these files.
nlohmann::json text_task_record(const data::TextTask& task, const std::string& train_file,
                                const std::string& dev_file);

// What a masked-LM run (pretrain, or the search's distillations) recorded of its text.
struct RecordedMaskedLMText {
  std::vector<std::string> files;      // options.data.train_text; none when not recorded
  std::optional<int64_t> valid_pairs;  // the last N pairs it held out
  int64_t max_length = 0;              // tokens per pair (0: not recorded)
  int64_t max_tokens = 4096;           // tokens per batch, which decide each pair's masking
};
RecordedMaskedLMText recorded_masked_lm_text(const nlohmann::json& record,
                                             const std::string& source = "slimformer.json");

// One line per step of a record's compression_chain: "sparsify (sparsity 0.7, schedule gradual)".
std::vector<std::string> chain_labels(const nlohmann::json& record,
                                      const std::string& source = "slimformer.json");

// The dotted keys of nested options: {"a": {"b": 1}} -> {"a.b": 1}.
nlohmann::json flatten_options(const nlohmann::json& nested);

}  // namespace slimformer::pipeline
