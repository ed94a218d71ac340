// SQuAD v1.1 fine-tuning and scoring: the options, the split of the dev file by article
// (training articles, validation articles that pick the best checkpoint, held-out articles that
// are scored once at the end), and the score line finetune and evaluate print.
#pragma once

#include "options.h"
#include "slimformer/data/squad_windows.h"
#include "slimformer/eval/squad_task.h"
#include "slimformer/models/transformer_config.h"

namespace slimformer::tools {

struct SquadRunOptions {
  std::string file = "data/squad/dev-v1.1.json.gz";
  int64_t held_out_articles = 8;
  int64_t valid_articles = 2;
  data::SquadWindowOptions windows;
  int64_t max_answer_length = 30;
};

// data.squad_file, data.squad_held_out, data.squad_valid_articles, data.doc_stride,
// data.max_query_length and task.max_answer_length (data.max_length is the command's own).
void add_squad_options(CommandOptions& options);
SquadRunOptions squad_run_options(const core::Settings& s, const models::TransformerConfig& model);

// The options a fine-tuning run recorded in its checkpoint (slimformer.json), defaults where it
// has none, windows no longer than the model's positions.
SquadRunOptions squad_options_of_run(const nlohmann::json& record,
                                     const models::TransformerConfig& model);

struct SquadSplit {
  data::SquadDataset train, valid, held_out;
};
SquadSplit read_squad_split(const SquadRunOptions& options);

// "SQuAD v1.1 held-out (8 articles, 1589 questions): EM 61.20 F1 70.31", by the official
// evaluation of the best spans.
std::string score_squad(models::EncoderModelImpl& model, const data::Tokenizer& tokenizer,
                        const data::SquadDataset& held_out, const SquadRunOptions& options,
                        const eval::SquadTaskOptions& task_options);

}  // namespace slimformer::tools
