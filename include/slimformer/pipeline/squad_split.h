// SQuAD v1.1 as the encoder commands use it: the dev file split by article into training
// articles, validation articles that pick the best checkpoint, and held-out articles scored once
// at the end; the score line. (What a fine-tuning run recorded: pipeline/run_record.h.)
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "slimformer/data/squad.h"
#include "slimformer/data/squad_windows.h"
#include "slimformer/eval/squad_metrics.h"
#include "slimformer/eval/squad_predict.h"
#include "slimformer/models/encoder.h"
#include "slimformer/pipeline/run_record.h"

namespace slimformer::pipeline {

struct SquadSplit {
  data::SquadDataset train, valid, held_out;
};
SquadSplit read_squad_split(const SquadRunOptions& options);

// The official evaluation of the best spans on the held-out articles.
struct HeldOutScore {
  eval::SquadScore score;
  size_t articles = 0;
  // "SQuAD v1.1 held-out (8 articles, 1589 questions): EM 61.20 F1 70.31"
  std::string summary() const;
};
HeldOutScore score_squad(models::EncoderModelImpl& model, const data::Tokenizer& tokenizer,
                         const data::SquadDataset& held_out, const SquadRunOptions& options,
                         const eval::SquadPredictOptions& predict);

}  // namespace slimformer::pipeline
