#include "slimformer/pipeline/squad_split.h"

#include <fmt/format.h>

#include "slimformer/core/json_fields.h"
#include "slimformer/eval/squad_metrics.h"

namespace slimformer::pipeline {

nlohmann::json squad_options_json(const SquadRunOptions& o) {
  return {{"file", o.file},
          {"held_out_articles", o.held_out_articles},
          {"valid_articles", o.valid_articles},
          {"max_length", o.windows.max_length},
          {"doc_stride", o.windows.doc_stride},
          {"max_query_length", o.windows.max_query_length},
          {"question_independent", o.windows.question_independent},
          {"max_answer_length", o.max_answer_length}};
}

namespace {

// The squad_options_json form of what the finetune command's options held, for checkpoints from
// before the task record.
nlohmann::json options_of_command(const nlohmann::json& record) {
  const auto options = core::object_member(record, "options");
  const auto data = core::object_member(options, "data");
  const auto task = core::object_member(options, "task");
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [from, to] : {std::pair{"squad_file", "file"},
                                 {"squad_held_out", "held_out_articles"},
                                 {"squad_valid_articles", "valid_articles"},
                                 {"max_length", "max_length"},
                                 {"doc_stride", "doc_stride"},
                                 {"max_query_length", "max_query_length"}})
    if (data.contains(from)) out[to] = data.at(from);
  if (task.contains("max_answer_length")) out["max_answer_length"] = task.at("max_answer_length");
  return out;
}

}  // namespace

SquadRunOptions squad_options_of_run(const nlohmann::json& record,
                                     const models::TransformerConfig& model) {
  SquadRunOptions o;
  o.windows.max_length = model.max_position_embeddings;
  auto recorded = core::object_member(core::object_member(record, "task"), "squad");
  if (recorded.empty()) recorded = options_of_command(record);
  o.file = recorded.value("file", o.file);
  o.held_out_articles = recorded.value("held_out_articles", o.held_out_articles);
  o.valid_articles = recorded.value("valid_articles", o.valid_articles);
  o.windows.max_length =
      std::min(recorded.value("max_length", o.windows.max_length), model.max_position_embeddings);
  o.windows.doc_stride = recorded.value("doc_stride", o.windows.doc_stride);
  o.windows.max_query_length = recorded.value("max_query_length", o.windows.max_query_length);
  o.windows.question_independent =
      recorded.value("question_independent", o.windows.question_independent);
  o.max_answer_length = recorded.value("max_answer_length", o.max_answer_length);
  return o;
}

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
