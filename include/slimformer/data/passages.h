// Passages a question-answering server answers from: every paragraph of a SQuAD v1.1 file (ids
// "<title>#<paragraph index>"), or a TSV of "id<TAB>text" lines (plain or .gz).
#pragma once

#include <string>
#include <vector>

#include "slimformer/data/squad.h"

namespace slimformer::data {

struct Passage {
  std::string id, text;
};

// A UserError names the file and line of a TSV row without a tab, an empty id or text, an id
// over 400 bytes, or a repeated id.
std::vector<Passage> read_passages(const std::string& path);

// The paragraphs of a SQuAD dataset as passages.
std::vector<Passage> squad_passages(const SquadDataset& dataset);
std::string squad_passage_id(const std::string& title, size_t paragraph);

}  // namespace slimformer::data
