#include "squad_setup.h"

#include <fmt/format.h>

namespace slimformer::tools {

void add_squad_options(CommandOptions& options) {
  const SquadRunOptions d;
  options.add("data.squad_file", d.file, "SQuAD v1.1 JSON (.json or .json.gz), split by article");
  options.add("data.squad_held_out", d.held_out_articles,
              "the last N articles are held out and scored once, at the end");
  options.add("data.squad_valid_articles", d.valid_articles,
              "the N articles before them pick the best checkpoint");
  options.add("data.doc_stride", d.windows.doc_stride,
              "passage tokens between the starts of overlapping windows");
  options.add("data.max_query_length", d.windows.max_query_length, "longer questions are cut");
  options.add("task.max_answer_length", d.max_answer_length, "longest answer span, in tokens");
}

SquadRunOptions squad_run_options(const core::Settings& s) {
  SquadRunOptions o;
  o.file = s.get_string("data.squad_file");
  o.held_out_articles = s.get_int_at_least("data.squad_held_out", 1);
  o.valid_articles = s.get_int_at_least("data.squad_valid_articles", 1);
  o.windows.max_length = s.get_int_at_least("data.max_length", 8);
  o.windows.doc_stride = s.get_int_at_least("data.doc_stride", 1);
  o.windows.max_query_length = s.get_int_at_least("data.max_query_length", 1);
  if (o.windows.max_query_length + 3 >= o.windows.max_length)
    s.fail(
        "data.max_query_length",
        fmt::format("must leave room for the passage in data.max_length {}", o.windows.max_length));
  o.max_answer_length = s.get_int_at_least("task.max_answer_length", 1);
  return o;
}

}  // namespace slimformer::tools
