#include "slimformer/eval/decoding.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "slimformer/data/parallel_corpus.h"
#include "slimformer/eval/beam_search.h"

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

// The decoder over a batch of sources, each source's row repeated for its k beams.
class TranslationScorer : public BeamScorer {
 public:
  TranslationScorer(models::Seq2SeqTransformerImpl& model, const models::EncoderOutput& encoded,
                    int64_t beam_size, int64_t max_length)
      : model_(model),
        banned_(banned_tokens(encoded.memory.device())),
        state_(model.make_state(max_length)) {
    const int64_t batch = encoded.memory.size(0);
    encoded_ = encoded.index_select(
        torch::arange(batch, torch::kInt64).repeat_interleave(beam_size).to(banned_.device()));
  }
  torch::Tensor next_log_probs(const torch::Tensor& last) override {
    return next_token_log_probs(model_, last, encoded_, state_, banned_);
  }
  void reorder(const torch::Tensor& order, nn::Reorder scope) override {
    state_.reorder(order, scope);
    if (scope == nn::Reorder::kAny) encoded_ = encoded_.index_select(order);
  }

 private:
  models::Seq2SeqTransformerImpl& model_;
  torch::Tensor banned_;
  models::EncoderOutput encoded_;
  models::DecodingState state_;
};

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
  const int64_t batch = source_encoded.memory.size(0);
  const auto device = source_encoded.memory.device();
  TranslationScorer scorer(model, source_encoded, beam_size, max_length);
  BeamOptions options;
  options.beam_size = beam_size;
  options.max_length = max_length;
  options.length_penalty = length_penalty;
  options.start_token = Vocab::kBos;
  options.end_tokens = {Vocab::kEos};
  return eval::beam_search(scorer, batch, options, device);
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
