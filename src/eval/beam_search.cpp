#include "slimformer/eval/beam_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace slimformer::eval {

std::vector<std::vector<int64_t>> beam_search(BeamScorer& scorer, int64_t sequences,
                                              const BeamOptions& options,
                                              const torch::Device& device) {
  const int64_t k = options.beam_size;
  const double minus_infinity = -std::numeric_limits<double>::infinity();
  auto is_end = [&](int64_t token) {
    return std::find(options.end_tokens.begin(), options.end_tokens.end(), token) !=
           options.end_tokens.end();
  };
  auto normalized = [&](double score, size_t length) {
    return score / std::pow(static_cast<double>(length), options.length_penalty);
  };
  struct Finished {
    std::vector<int64_t> tokens;
    double score;
  };
  // sentence[a]: the sequence rows a * k .. a * k + k - 1 search.
  std::vector<int64_t> sentence(sequences);
  std::iota(sentence.begin(), sentence.end(), 0);
  std::vector<std::vector<Finished>> finished(sequences);
  std::vector<bool> done(sequences, false);
  std::vector<std::vector<int64_t>> history(sequences * k);
  // Only the first beam of each sequence is alive at first: the others would repeat it.
  std::vector<double> scores(sequences * k, 0.0);
  for (int64_t b = 0; b < sequences; ++b)
    for (int64_t j = 1; j < k; ++j) scores[b * k + j] = minus_infinity;
  torch::Tensor last = torch::full({sequences * k, 1}, options.start_token,
                                   torch::dtype(torch::kInt64).device(device));

  size_t done_present = 0;  // finished sequences whose rows are still in the batch
  for (int64_t step = 0; step < options.max_length; ++step) {
    const int64_t present = static_cast<int64_t>(sentence.size()), rows = present * k;
    torch::Tensor log_probs = scorer.next_log_probs(last);
    // A sequence's best 2k continuations come from its beams' best 2k tokens each: select those
    // on the device, then add the beams' scores in double precision on the host.
    const int64_t per_row = std::min(2 * k, log_probs.size(1));
    const int64_t candidates = std::min(2 * k, k * per_row);
    auto [row_best, row_tokens] = log_probs.topk(per_row, 1);
    row_tokens = row_tokens.to(torch::kCPU);
    torch::Tensor total = row_best.to(torch::kCPU).to(torch::kFloat64) +
                          torch::tensor(scores, torch::kFloat64).unsqueeze(1);
    auto [top_scores, top_index] = total.view({present, k * per_row}).topk(candidates, 1);
    auto s_acc = top_scores.accessor<double, 2>();
    auto i_acc = top_index.accessor<int64_t, 2>();
    auto t_acc = row_tokens.accessor<int64_t, 2>();

    std::vector<int64_t> order(rows), tokens(rows, options.start_token);  // dead beams: any token
    std::vector<double> new_scores(rows, minus_infinity);
    for (int64_t a = 0; a < present; ++a) {
      const int64_t b = sentence[a];
      const bool was_done = done[b];
      int64_t filled = 0;
      for (int64_t c = 0; c < candidates && filled < k; ++c) {
        const int64_t beam = i_acc[a][c] / per_row;
        const int64_t token = t_acc[a * k + beam][i_acc[a][c] % per_row];
        const double score = s_acc[a][c];
        if (!std::isfinite(score)) break;
        const int64_t row = a * k + beam;
        if (is_end(token)) {
          if (!done[b] && int64_t(finished[b].size()) < k)
            finished[b].push_back({history[row], normalized(score, history[row].size() + 1)});
          continue;
        }
        order[a * k + filled] = row;
        tokens[a * k + filled] = token;
        new_scores[a * k + filled] = score;
        ++filled;
      }
      for (int64_t j = filled; j < k; ++j) order[a * k + j] = a * k;  // dead beams
      if (int64_t(finished[b].size()) >= k) done[b] = true;
      if (done[b] && !was_done) ++done_present;
    }
    if (done_present == sentence.size()) break;

    // Rows of sequences still searched, all of them unless dropping the finished ones pays now.
    std::vector<int64_t> keep_present;
    const bool drop = worth_dropping(done_present, sentence.size());
    for (int64_t a = 0; a < present; ++a)
      if (!drop || !done[sentence[a]]) keep_present.push_back(a);
    std::vector<int64_t> state_order, next_tokens, next_sentence;
    std::vector<double> next_scores;
    std::vector<std::vector<int64_t>> next_history;
    for (int64_t a : keep_present) {
      next_sentence.push_back(sentence[a]);
      for (int64_t j = 0; j < k; ++j) {
        const int64_t r = a * k + j;
        state_order.push_back(order[r]);
        next_tokens.push_back(tokens[r]);
        next_scores.push_back(new_scores[r]);
        next_history.push_back(history[order[r]]);
        next_history.back().push_back(tokens[r]);
      }
    }
    torch::Tensor order_tensor = torch::tensor(state_order, torch::kInt64).to(device);
    scorer.reorder(order_tensor, drop ? nn::Reorder::kAny : nn::Reorder::kWithinSource);
    if (drop) done_present = 0;
    history = std::move(next_history);
    scores = std::move(next_scores);
    sentence = std::move(next_sentence);
    last = torch::tensor(next_tokens, torch::kInt64).to(device).unsqueeze(1);
  }

  for (int64_t a = 0; a < int64_t(sentence.size()); ++a) {
    const int64_t b = sentence[a];
    // Unfinished beams compete too when the length limit was reached.
    for (int64_t j = 0; j < k && !done[b]; ++j)
      if (std::isfinite(scores[a * k + j]))
        finished[b].push_back(
            {history[a * k + j], normalized(scores[a * k + j], history[a * k + j].size())});
  }
  std::vector<std::vector<int64_t>> out(sequences);
  for (int64_t b = 0; b < sequences; ++b) {
    auto best =
        std::max_element(finished[b].begin(), finished[b].end(),
                         [](const Finished& x, const Finished& y) { return x.score < y.score; });
    if (best != finished[b].end()) out[b] = best->tokens;
  }
  return out;
}

}  // namespace slimformer::eval
