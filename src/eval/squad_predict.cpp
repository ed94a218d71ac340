#include "slimformer/eval/squad_predict.h"

#include "slimformer/data/parallel_corpus.h"

namespace slimformer::eval {

std::vector<int64_t> window_lengths(const data::SquadFeatures& f) {
  std::vector<int64_t> lengths;
  for (const auto& w : f.windows) lengths.push_back(static_cast<int64_t>(w.input.tokens.size()));
  return lengths;
}

models::SpanLogits window_logits(models::EncoderModelImpl& model, const data::SquadFeatures& f,
                                 const std::vector<int64_t>& indices, const torch::Device& device,
                                 torch::Tensor* tokens_out, nn::Taps* taps) {
  std::vector<const data::SegmentPair*> rows;
  for (int64_t i : indices) rows.push_back(&f.windows[i].input);
  const int64_t pad = model.config().pad_token_id;
  auto padded = data::pad_pairs(rows, pad);
  torch::Tensor tokens = padded.tokens.to(device);
  auto logits = model.span_logits(model.encode(tokens, padded.segments.to(device), taps));
  torch::Tensor padding = tokens.eq(pad);
  logits.start = logits.start.masked_fill(padding, -1e4);
  logits.end = logits.end.masked_fill(padding, -1e4);
  if (tokens_out) *tokens_out = tokens;
  return logits;
}

void choose_span(const data::SquadWindow& w, const float* start, const float* end,
                 int64_t max_answer_length, SpanChoice& best) {
  for (int64_t i = 0; i < w.length; ++i) {
    if (!w.max_context[i]) continue;
    const int64_t last = std::min(w.length, i + max_answer_length);
    for (int64_t j = i; j < last; ++j) {
      const double score = start[w.input_offset + i] + end[w.input_offset + j];
      if (score > best.score) best = {score, w.passage_offset + i, w.passage_offset + j};
    }
  }
}

std::map<std::string, std::string> predict_squad(models::EncoderModelImpl& model,
                                                 const data::SquadFeatures& features,
                                                 const data::Tokenizer& tokenizer,
                                                 const SquadPredictOptions& options) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<SpanChoice> best(features.questions.size());
  for (const auto& indices :
       data::batch_by_tokens(window_lengths(features), options.max_tokens, false, 0)) {
    auto logits = window_logits(model, features, indices, options.device);
    torch::Tensor starts = logits.start.to(torch::kCPU).to(torch::kFloat32).contiguous();
    torch::Tensor ends = logits.end.to(torch::kCPU).to(torch::kFloat32).contiguous();
    auto s = starts.accessor<float, 2>(), e = ends.accessor<float, 2>();
    for (size_t r = 0; r < indices.size(); ++r) {
      const auto& w = features.windows[indices[r]];
      choose_span(w, &s[r][0], &e[r][0], options.max_answer_length, best[w.question]);
    }
  }
  model.train(was_training);
  std::map<std::string, std::string> answers;
  for (size_t q = 0; q < best.size(); ++q) {
    if (best[q].first < 0) continue;
    const auto& question = features.questions[q];
    answers[question.id] = data::answer_text(features.passages[question.passage], tokenizer,
                                             best[q].first, best[q].last);
  }
  return answers;
}

}  // namespace slimformer::eval
