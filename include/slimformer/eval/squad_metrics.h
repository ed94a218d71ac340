// SQuAD v1.1 exact match and F1, computed as the official evaluation script (evaluate-v1.1.py)
// computes them: answers are lower-cased, stripped of ASCII punctuation and of the articles
// a/an/the, and whitespace-normalized; each question scores the maximum over its gold answers;
// the totals are percentages over all questions of the dataset, an unanswered one scoring 0.
#pragma once

#include <map>
#include <string>

#include "slimformer/data/squad.h"

namespace slimformer::eval {

std::string normalize_answer(const std::string& text);
double squad_exact_match(const std::string& prediction, const std::string& gold);
double squad_f1(const std::string& prediction, const std::string& gold);

struct SquadScore {
  double exact_match = 0, f1 = 0;  // percentages
  int64_t questions = 0, unanswered = 0;
};

// `predictions` maps question id to answer text.
SquadScore squad_score(const data::SquadDataset& dataset,
                       const std::map<std::string, std::string>& predictions);

}  // namespace slimformer::eval
