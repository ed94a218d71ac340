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
                                   models::DecodingState& state, const torch::Tensor& banned) {
  torch::Tensor logits = model.decode(last, encoded, &state).select(1, -1).to(torch::kFloat32);
  return torch::log_softmax(logits, -1)
      .index_fill_(1, banned, -std::numeric_limits<float>::infinity());
}

torch::Tensor banned_tokens(const torch::Device& device) {
  return torch::tensor({Vocab::kPad, Vocab::kBos}, torch::kInt64).to(device);
}

// Whether to drop finished rows from the batch now: dropping copies every state, so it waits
// until a quarter of the rows (at least one) are finished ones still computed for nothing.
bool worth_dropping(size_t finished_rows, size_t rows) {
  return finished_rows > 0 && 4 * finished_rows >= rows;
}

}  // namespace

std::vector<std::vector<int64_t>> greedy_search(models::Seq2SeqTransformerImpl& model,
                                                const torch::Tensor& src, int64_t max_length) {
  c10::InferenceMode inference;
  return greedy_search(model, model.encode(src), max_length);
}

std::vector<std::vector<int64_t>> greedy_search(models::Seq2SeqTransformerImpl& model,
                                                const models::EncoderOutput& source_encoded,
                                                int64_t max_length) {
  c10::InferenceMode inference;
  const int64_t batch = source_encoded.memory.size(0);
  const auto device = source_encoded.memory.device();
  const torch::Tensor banned = banned_tokens(device);
  auto encoded = source_encoded;
  auto state = model.make_state(max_length);
  torch::Tensor last =
      torch::full({batch, 1}, Vocab::kBos, torch::dtype(torch::kInt64).device(device));
  std::vector<std::vector<int64_t>> out(batch);
  // The sentence each row decodes, and whether it has finished.
  std::vector<int64_t> sentence(batch);
  std::iota(sentence.begin(), sentence.end(), 0);
  std::vector<bool> done(batch, false);
  size_t finished_rows = 0;
  for (int64_t step = 0; step < max_length && finished_rows < sentence.size(); ++step) {
    torch::Tensor next = next_token_log_probs(model, last, encoded, state, banned).argmax(-1);
    auto ids = next.to(torch::kCPU);
    auto acc = ids.accessor<int64_t, 1>();
    for (size_t r = 0; r < sentence.size(); ++r) {
      const int64_t b = sentence[r];
      if (done[b]) continue;
      if (acc[r] == Vocab::kEos) {
        done[b] = true, ++finished_rows;
      } else {
        out[b].push_back(acc[r]);
      }
    }
    if (finished_rows < sentence.size() && worth_dropping(finished_rows, sentence.size())) {
      std::vector<int64_t> keep, kept_sentence;
      for (size_t r = 0; r < sentence.size(); ++r)
        if (!done[sentence[r]]) keep.push_back(r), kept_sentence.push_back(sentence[r]);
      torch::Tensor order = torch::tensor(keep, torch::kInt64).to(device);
      state.reorder(order);
      encoded = encoded.index_select(order);
      next = next.index_select(0, order);
      sentence = std::move(kept_sentence);
      finished_rows = 0;
    }
    last = next.unsqueeze(1);
  }
  return out;
}

std::vector<std::vector<int64_t>> beam_search(models::Seq2SeqTransformerImpl& model,
                                              const torch::Tensor& src, int64_t max_length,
                                              int64_t beam_size, double length_penalty) {
  c10::InferenceMode inference;
  return beam_search(model, model.encode(src), max_length, beam_size, length_penalty);
}

std::vector<std::vector<int64_t>> beam_search(models::Seq2SeqTransformerImpl& model,
                                              const models::EncoderOutput& source_encoded,
                                              int64_t max_length, int64_t beam_size,
                                              double length_penalty) {
  if (beam_size <= 1) return greedy_search(model, source_encoded, max_length);
  c10::InferenceMode inference;
  const int64_t batch = source_encoded.memory.size(0), k = beam_size;
  const auto device = source_encoded.memory.device();
  const auto id_options = torch::dtype(torch::kInt64).device(device);
  const torch::Tensor banned = banned_tokens(device);
  // Every source row is repeated k times: row a * k + j is beam j of the a-th sentence still
  // decoded, sentence[a].
  torch::Tensor expand = torch::arange(batch, torch::kInt64).repeat_interleave(k).to(device);
  auto encoded = source_encoded.index_select(expand);
  auto state = model.make_state(max_length);
  std::vector<int64_t> sentence(batch);
  std::iota(sentence.begin(), sentence.end(), 0);

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
  size_t done_present = 0;  // finished sentences whose rows are still in the batch
  for (int64_t step = 0; step < max_length; ++step) {
    const int64_t present = static_cast<int64_t>(sentence.size()), rows = present * k;
    torch::Tensor log_probs = next_token_log_probs(model, last, encoded, state, banned);
    // A sentence's best 2k continuations come from its beams' best 2k tokens each: select those
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

    std::vector<int64_t> order(rows), tokens(rows, Vocab::kEos);
    std::vector<double> new_scores(rows, -std::numeric_limits<double>::infinity());
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
        if (token == Vocab::kEos) {
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

    // Rows of sentences still decoded, all of them unless dropping the finished ones pays now.
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
    if (drop) {
      state.reorder(order_tensor, nn::Reorder::kAny);
      encoded = encoded.index_select(order_tensor);
      done_present = 0;
    } else {
      state.reorder(order_tensor, nn::Reorder::kWithinSource);
    }
    history = std::move(next_history);
    scores = std::move(next_scores);
    sentence = std::move(next_sentence);
    last = torch::tensor(next_tokens, torch::kInt64).to(device).unsqueeze(1);
  }

  std::vector<std::vector<int64_t>> out(batch);
  for (int64_t a = 0; a < int64_t(sentence.size()); ++a) {
    const int64_t b = sentence[a];
    // Unfinished beams compete too when the length limit was reached.
    for (int64_t j = 0; j < k && !done[b]; ++j)
      if (std::isfinite(scores[a * k + j]))
        finished[b].push_back(
            {history[a * k + j], normalized(scores[a * k + j], history[a * k + j].size())});
  }
  for (int64_t b = 0; b < batch; ++b) {
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
  c10::InferenceMode inference;
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
