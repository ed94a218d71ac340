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

SquadRunOptions squad_run_options(const core::Settings& s, const models::TransformerConfig& model) {
  SquadRunOptions o;
  o.file = s.get_string("data.squad_file");
  o.held_out_articles = s.get_int_at_least("data.squad_held_out", 1);
  o.valid_articles = s.get_int_at_least("data.squad_valid_articles", 1);
  o.windows.max_length = s.get_int_at_least("data.max_length", 8);
  if (o.windows.max_length > model.max_position_embeddings)
    s.fail("data.max_length",
           fmt::format("must be at most the model's {} positions", model.max_position_embeddings));
  o.windows.doc_stride = s.get_int_at_least("data.doc_stride", 1);
  o.windows.max_query_length = s.get_int_at_least("data.max_query_length", 1);
  if (o.windows.max_query_length + 3 >= o.windows.max_length)
    s.fail(
        "data.max_query_length",
        fmt::format("must leave room for the passage in data.max_length {}", o.windows.max_length));
  o.max_answer_length = s.get_int_at_least("task.max_answer_length", 1);
  return o;
}

SquadRunOptions squad_options_of_run(const nlohmann::json& record,
                                     const models::TransformerConfig& model) {
  SquadRunOptions o;
  o.windows.max_length = model.max_position_embeddings;
  const auto options = record.is_object() ? record.value("options", nlohmann::json::object())
                                          : nlohmann::json::object();
  const auto data = options.value("data", nlohmann::json::object());
  const auto task = options.value("task", nlohmann::json::object());
  o.file = data.value("squad_file", o.file);
  o.held_out_articles = data.value("squad_held_out", o.held_out_articles);
  o.valid_articles = data.value("squad_valid_articles", o.valid_articles);
  o.windows.max_length =
      std::min(data.value("max_length", o.windows.max_length), model.max_position_embeddings);
  o.windows.doc_stride = data.value("doc_stride", o.windows.doc_stride);
  o.windows.max_query_length = data.value("max_query_length", o.windows.max_query_length);
  o.max_answer_length = task.value("max_answer_length", o.max_answer_length);
  return o;
}

SquadSplit read_squad_split(const SquadRunOptions& options) {
  auto [rest, held_out] =
      data::split_by_article(data::read_squad(options.file), options.held_out_articles);
  auto [train, valid] = data::split_by_article(rest, options.valid_articles);
  return {std::move(train), std::move(valid), std::move(held_out)};
}

std::string score_squad(models::EncoderModelImpl& model, const data::Tokenizer& tokenizer,
                        const data::SquadDataset& held_out, const SquadRunOptions& options,
                        const eval::SquadTaskOptions& task_options) {
  auto features = data::make_squad_windows(held_out, tokenizer, options.windows);
  auto score =
      eval::squad_score(held_out, eval::predict_squad(model, features, tokenizer, task_options));
  return fmt::format("SQuAD v1.1 held-out ({} articles, {} questions): EM {:.2f} F1 {:.2f}",
                     held_out.articles.size(), score.questions, score.exact_match, score.f1);
}

}  // namespace slimformer::tools
