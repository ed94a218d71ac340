#include "slimformer/eval/decoding.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "slimformer/data/parallel_corpus.h"

namespace slimformer::eval {

using data::Vocab;

namespace {

// Log-probabilities of the next token; <pad> and <s> are never produced.
torch::Tensor next_token_log_probs(models::Seq2SeqTransformerImpl& model, const torch::Tensor& last,
                                   const models::EncoderOutput& encoded,
                                   models::DecodingState& state) {
  torch::Tensor logits = model.decode(last, encoded, &state).select(1, -1).to(torch::kFloat32);
  torch::Tensor log_probs = torch::log_softmax(logits, -1);
  log_probs.select(1, Vocab::kPad).fill_(-std::numeric_limits<float>::infinity());
  log_probs.select(1, Vocab::kBos).fill_(-std::numeric_limits<float>::infinity());
  return log_probs;
}

}  // namespace

std::vector<std::vector<int64_t>> greedy_search(models::Seq2SeqTransformerImpl& model,
                                                const torch::Tensor& src, int64_t max_length) {
  torch::NoGradGuard no_grad;
  return greedy_search(model, model.encode(src), max_length);
}

std::vector<std::vector<int64_t>> greedy_search(models::Seq2SeqTransformerImpl& model,
                                                const models::EncoderOutput& encoded,
                                                int64_t max_length) {
  torch::NoGradGuard no_grad;
  const int64_t batch = encoded.memory.size(0);
  auto state = model.make_state();
  torch::Tensor last = torch::full({batch, 1}, Vocab::kBos,
                                   torch::dtype(torch::kInt64).device(encoded.memory.device()));
  std::vector<std::vector<int64_t>> out(batch);
  std::vector<bool> done(batch, false);
  int64_t remaining = batch;
  for (int64_t step = 0; step < max_length && remaining > 0; ++step) {
    torch::Tensor next = next_token_log_probs(model, last, encoded, state).argmax(-1);
    auto ids = next.to(torch::kCPU);
    auto acc = ids.accessor<int64_t, 1>();
    for (int64_t b = 0; b < batch; ++b) {
      if (done[b]) continue;
      if (acc[b] == Vocab::kEos) {
        done[b] = true, --remaining;
      } else {
        out[b].push_back(acc[b]);
      }
    }
    last = next.unsqueeze(1);
  }
  return out;
}

std::vector<std::vector<int64_t>> beam_search(models::Seq2SeqTransformerImpl& model,
                                              const torch::Tensor& src, int64_t max_length,
                                              int64_t beam_size, double length_penalty) {
  torch::NoGradGuard no_grad;
  return beam_search(model, model.encode(src), max_length, beam_size, length_penalty);
}

std::vector<std::vector<int64_t>> beam_search(models::Seq2SeqTransformerImpl& model,
                                              const models::EncoderOutput& source_encoded,
                                              int64_t max_length, int64_t beam_size,
                                              double length_penalty) {
  if (beam_size <= 1) return greedy_search(model, source_encoded, max_length);
  torch::NoGradGuard no_grad;
  const int64_t batch = source_encoded.memory.size(0), k = beam_size;
  const auto device = source_encoded.memory.device();
  const auto id_options = torch::dtype(torch::kInt64).device(device);
  // Every source row is repeated k times: row b * k + j is beam j of sentence b.
  torch::Tensor expand = torch::arange(batch, torch::kInt64).repeat_interleave(k).to(device);
  auto encoded = source_encoded.index_select(expand);
  auto state = model.make_state();

  struct Finished {
    std::vector<int64_t> tokens;
    double score;
  };
  std::vector<std::vector<Finished>> finished(batch);
  std::vector<bool> done(batch, false);
  std::vector<std::vector<int64_t>> history(batch * k);
  std::vector<double> scores(batch * k, 0.0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t j = 1; j < k; ++j) scores[b * k + j] = -std::numeric_limits<double>::infinity();
  torch::Tensor last = torch::full({batch * k, 1}, Vocab::kBos, id_options);

  auto normalized = [&](double score, size_t length) {
    return score / std::pow(static_cast<double>(length), length_penalty);
  };
  for (int64_t step = 0; step < max_length; ++step) {
    torch::Tensor log_probs = next_token_log_probs(model, last, encoded, state);
    const int64_t vocab = log_probs.size(1);
    torch::Tensor total = log_probs.to(torch::kCPU).to(torch::kFloat64) +
                          torch::tensor(scores, torch::kFloat64).unsqueeze(1);
    auto [top_scores, top_index] = total.view({batch, k * vocab}).topk(2 * k, 1);
    auto s_acc = top_scores.accessor<double, 2>();
    auto i_acc = top_index.accessor<int64_t, 2>();

    std::vector<int64_t> order(batch * k), tokens(batch * k, Vocab::kEos);
    std::vector<double> new_scores(batch * k, -std::numeric_limits<double>::infinity());
    for (int64_t b = 0; b < batch; ++b) {
      int64_t filled = 0;
      for (int64_t c = 0; c < 2 * k && filled < k; ++c) {
        const int64_t beam = i_acc[b][c] / vocab, token = i_acc[b][c] % vocab;
        const double score = s_acc[b][c];
        if (!std::isfinite(score)) break;
        const int64_t row = b * k + beam;
        if (token == Vocab::kEos) {
          if (!done[b] && int64_t(finished[b].size()) < k)
            finished[b].push_back({history[row], normalized(score, history[row].size() + 1)});
          continue;
        }
        order[b * k + filled] = row;
        tokens[b * k + filled] = token;
        new_scores[b * k + filled] = score;
        ++filled;
      }
      for (int64_t j = filled; j < k; ++j) order[b * k + j] = b * k;  // dead beams
      if (int64_t(finished[b].size()) >= k) done[b] = true;
    }
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;

    std::vector<std::vector<int64_t>> next_history(batch * k);
    for (int64_t r = 0; r < batch * k; ++r) {
      next_history[r] = history[order[r]];
      next_history[r].push_back(tokens[r]);
    }
    history = std::move(next_history);
    scores = std::move(new_scores);
    torch::Tensor order_tensor = torch::tensor(order, torch::kInt64).to(device);
    state.reorder(order_tensor);
    last = torch::tensor(tokens, torch::kInt64).to(device).unsqueeze(1);
  }

  std::vector<std::vector<int64_t>> out(batch);
  for (int64_t b = 0; b < batch; ++b) {
    // Unfinished beams compete too when the length limit was reached.
    for (int64_t j = 0; j < k && !done[b]; ++j)
      if (std::isfinite(scores[b * k + j]))
        finished[b].push_back(
            {history[b * k + j], normalized(scores[b * k + j], history[b * k + j].size())});
    auto best =
        std::max_element(finished[b].begin(), finished[b].end(),
                         [](const Finished& x, const Finished& y) { return x.score < y.score; });
    if (best != finished[b].end()) out[b] = best->tokens;
  }
  return out;
}

SourceBatches prepare_source_batches(const models::Seq2SeqTransformerImpl& model,
                                     const data::Vocab& vocab,
                                     const std::vector<std::string>& lines,
                                     const DecodeOptions& options, const torch::Device& device) {
  const int64_t max_positions = model.config().max_position_embeddings;
  std::vector<std::vector<int64_t>> encoded;
  std::vector<int64_t> lengths;
  for (const auto& line : lines) {
    auto ids = vocab.encode(line);
    if (int64_t(ids.size()) > max_positions - 1)
      ids.resize(max_positions - 1);  // keep room for </s>
    ids.push_back(Vocab::kEos);
    lengths.push_back(ids.size());
    encoded.push_back(std::move(ids));
  }
  // Budget the batch by the longer of source and output, since the output dominates decoding.
  std::vector<int64_t> budget_lengths;
  for (int64_t len : lengths)
    budget_lengths.push_back(std::max(len, options.max_length_a * len + options.max_length_b) *
                             options.beam_size);
  SourceBatches out;
  out.lines = lines.size();
  for (auto& batch : data::batch_by_tokens(budget_lengths, options.max_tokens, false, 0)) {
    std::vector<const std::vector<int64_t>*> rows;
    int64_t longest = 0;
    for (int64_t i : batch) rows.push_back(&encoded[i]), longest = std::max(longest, lengths[i]);
    out.src.push_back(data::pad_sequences(rows, Vocab::kPad).to(device));
    out.max_length.push_back(
        std::min(options.max_length_a * longest + options.max_length_b, max_positions));
    out.indices.push_back(std::move(batch));
  }
  return out;
}

std::vector<std::string> translate_batches(models::Seq2SeqTransformerImpl& model,
                                           const data::Vocab& vocab, const SourceBatches& batches,
                                           const DecodeOptions& options,
                                           const std::vector<models::EncoderOutput>* encoded,
                                           const std::function<void(size_t, size_t)>& progress) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<std::string> out(batches.lines);
  size_t done = 0;
  for (size_t b = 0; b < batches.src.size(); ++b) {
    auto source = encoded ? encoded->at(b) : model.encode(batches.src[b]);
    auto hyps = beam_search(model, source, batches.max_length[b], options.beam_size,
                            options.length_penalty);
    const auto& batch = batches.indices[b];
    for (size_t j = 0; j < batch.size(); ++j) out[batch[j]] = vocab.decode(hyps[j]);
    done += batch.size();
    if (progress) progress(done, batches.lines);
  }
  model.train(was_training);
  return out;
}

std::vector<std::string> translate(models::Seq2SeqTransformerImpl& model, const data::Vocab& vocab,
                                   const std::vector<std::string>& lines,
                                   const DecodeOptions& options, const torch::Device& device,
                                   const std::function<void(size_t, size_t)>& progress) {
  auto batches = prepare_source_batches(model, vocab, lines, options, device);
  return translate_batches(model, vocab, batches, options, nullptr, progress);
}

}  // namespace slimformer::eval
