// SQuAD v1.1 JSON (Rajpurkar et al. 2016): articles of paragraphs, each with questions and one or
// more gold answers given as text and character offset into the paragraph.
#pragma once

#include <string>
#include <vector>

namespace slimformer::data {

struct SquadAnswer {
  std::string text;
  int64_t start = 0;  // byte offset into the paragraph (the file gives characters; see read_squad)
};

struct SquadQuestion {
  std::string id, question;
  std::vector<SquadAnswer> answers;
};

struct SquadParagraph {
  std::string context;
  std::vector<SquadQuestion> questions;
};

struct SquadArticle {
  std::string title;
  std::vector<SquadParagraph> paragraphs;
};

struct SquadDataset {
  std::string version;
  std::vector<SquadArticle> articles;
  int64_t num_questions() const;
};

// Reads a SQuAD v1.1 file (plain or .gz). Answer offsets are converted from characters (code
// points, as the file counts them) to bytes. A UserError names the file and the JSON path of a
// missing or mistyped field, and the question whose answer text is not found at its offset.
SquadDataset read_squad(const std::string& path);

// Splits by article: the first articles for training, the last `held_out` for evaluation, so no
// paragraph is in both.
std::pair<SquadDataset, SquadDataset> split_by_article(const SquadDataset& dataset,
                                                       int64_t held_out);

}  // namespace slimformer::data
