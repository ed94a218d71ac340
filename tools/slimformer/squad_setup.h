// The SQuAD v1.1 options of the encoder commands (pipeline/squad_split.h has the split and the
// score).
#pragma once

#include "options.h"
#include "slimformer/models/transformer_config.h"
#include "slimformer/pipeline/squad_split.h"

namespace slimformer::tools {

using pipeline::read_squad_split;
using pipeline::score_squad;
using pipeline::squad_options_of_run;
using pipeline::SquadRunOptions;

// data.squad_file, data.squad_held_out, data.squad_valid_articles, data.doc_stride,
// data.max_query_length and task.max_answer_length (data.max_length is the command's own).
void add_squad_options(CommandOptions& options);
SquadRunOptions squad_run_options(const core::Settings& s);

}  // namespace slimformer::tools
