#include "slimformer/pipeline/squad_split.h"

#include <fmt/format.h>

#include "slimformer/eval/squad_metrics.h"

namespace slimformer::pipeline {

SquadSplit read_squad_split(const SquadRunOptions& options) {
  auto [rest, held_out] =
      data::split_by_article(data::read_squad(options.file), options.held_out_articles);
  auto [train, valid] = data::split_by_article(rest, options.valid_articles);
  return {std::move(train), std::move(valid), std::move(held_out)};
}

std::string HeldOutScore::summary() const {
  return fmt::format("SQuAD v1.1 held-out ({} articles, {} questions): EM {:.2f} F1 {:.2f}",
                     articles, score.questions, score.exact_match, score.f1);
}

HeldOutScore score_squad(models::EncoderModelImpl& model, const data::Tokenizer& tokenizer,
                         const data::SquadDataset& held_out, const SquadRunOptions& options,
                         const eval::SquadPredictOptions& predict) {
  auto features = data::make_squad_windows(held_out, tokenizer, options.windows);
  return {eval::squad_score(held_out, eval::predict_squad(model, features, tokenizer, predict)),
          held_out.articles.size()};
}

}  // namespace slimformer::pipeline
