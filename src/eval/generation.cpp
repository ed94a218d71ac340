#include "slimformer/eval/generation.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <utility>

#include "slimformer/core/error.h"
#include "slimformer/eval/beam_search.h"

namespace slimformer::eval {

int64_t pick_token(const torch::Tensor& logits, const GenerateOptions& options, double uniform) {
  if (options.temperature <= 0) return logits.argmax().item<int64_t>();
  torch::Tensor probs = torch::softmax(logits.to(torch::kFloat64) / options.temperature, -1);
  auto [sorted, order] = probs.sort(/*dim=*/-1, /*descending=*/true);
  int64_t keep = sorted.size(0);
  if (options.top_k > 0) keep = std::min(keep, options.top_k);
  if (options.top_p < 1.0) {
    // The smallest prefix whose mass reaches top_p (at least one token).
    torch::Tensor cumulative = sorted.cumsum(0);
    const int64_t below = cumulative.lt(options.top_p).sum().item<int64_t>();
    keep = std::min(keep, below + 1);
  }
  auto p = sorted.narrow(0, 0, keep).contiguous();
  const double total = p.sum().item<double>();
  const double* values = p.data_ptr<double>();
  double target = uniform * total, cumulative = 0;
  for (int64_t i = 0; i < keep; ++i) {
    cumulative += values[i];
    if (target < cumulative) return order[i].item<int64_t>();
  }
  return order[keep - 1].item<int64_t>();  // rounding left the draw past the end
}

namespace {

// A language model continuing one prompt: the prompt runs once, then its state is repeated for
// each beam, and the first step's scores are the prompt's.
class PromptScorer : public BeamScorer {
 public:
  PromptScorer(models::CausalLMImpl& model, const torch::Tensor& prompt, int64_t beam_size,
               int64_t capacity)
      : model_(model), state_(model.make_state(capacity)) {
    first_ = log_probs(model_.forward(prompt, &state_)).expand({beam_size, -1}).contiguous();
    state_.reorder(torch::zeros({beam_size}, torch::dtype(torch::kInt64).device(prompt.device())));
  }
  torch::Tensor next_log_probs(const torch::Tensor& last) override {
    if (first_.defined()) return std::exchange(first_, torch::Tensor());
    return log_probs(model_.forward(last, &state_));
  }
  void reorder(const torch::Tensor& order, nn::Reorder scope) override {
    state_.reorder(order, scope);
  }

 private:
  static torch::Tensor log_probs(const torch::Tensor& logits) {
    return torch::log_softmax(logits.select(1, -1).to(torch::kFloat32), -1);
  }
  models::CausalLMImpl& model_;
  models::DecodingState state_;
  torch::Tensor first_;
};

}  // namespace

std::vector<int64_t> generate(models::CausalLMImpl& model, const std::vector<int64_t>& prompt,
                              const GenerateOptions& options,
                              const std::function<void(int64_t)>& on_token) {
  if (prompt.empty()) throw core::UserError("generate: the prompt has no tokens");
  const int64_t room = model.config().max_position_embeddings - static_cast<int64_t>(prompt.size());
  if (room < 1)
    throw core::UserError(
        fmt::format("generate: the prompt has {} tokens; the model's context is {}", prompt.size(),
                    model.config().max_position_embeddings));
  if (options.beam_size > 1 && options.temperature > 0)
    throw core::UserError(fmt::format(
        "generate: beam search (beam {}) does not sample; temperature must be 0, got {}",
        options.beam_size, options.temperature));
  c10::InferenceMode inference;
  model.eval();
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  auto device = model.embed_tokens->weight.device();
  torch::Tensor input =
      torch::tensor(prompt, torch::TensorOptions().dtype(torch::kLong)).unsqueeze(0).to(device);
  const int64_t steps = std::min(options.max_new_tokens, room);
  if (options.beam_size > 1) {
    PromptScorer scorer(model, input, options.beam_size,
                        static_cast<int64_t>(prompt.size()) + room);
    BeamOptions beam;
    beam.beam_size = options.beam_size;
    beam.max_length = steps;
    beam.length_penalty = options.length_penalty;
    beam.start_token = prompt.back();  // not read: the first step's scores are the prompt's
    beam.end_tokens = options.stop_ids;
    auto best = beam_search(scorer, 1, beam, device).front();
    if (on_token)
      for (int64_t token : best) on_token(token);
    return best;
  }
  auto state = model.make_state(static_cast<int64_t>(prompt.size()) + room);
  std::vector<int64_t> out;
  for (int64_t step = 0; step < steps; ++step) {
    torch::Tensor logits = model.forward(input, &state).select(1, -1)[0].to(torch::kCPU);
    const int64_t token = pick_token(logits, options, uniform(rng));
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), token) !=
        options.stop_ids.end())
      break;
    out.push_back(token);
    if (on_token) on_token(token);
    input = torch::full({1, 1}, token, torch::TensorOptions().dtype(torch::kLong).device(device));
  }
  return out;
}

std::string continue_prompt(models::CausalLMImpl& model, const data::Tokenizer& tokenizer,
                            const std::string& prompt, GenerateOptions options,
                            const std::function<void(const std::string&)>& on_text) {
  std::vector<int64_t> ids = {tokenizer.bos_id()};
  for (int64_t id : tokenizer.encode(prompt)) ids.push_back(id);
  options.stop_ids.push_back(tokenizer.bos_id());
  options.stop_ids.push_back(tokenizer.eos_id());
  // Decoded as a whole: pieces that only make sense together (bytes of one character, a
  // word-start space) come out right.
  std::vector<int64_t> shown(ids.begin() + 1, ids.end());
  generate(model, ids, options, [&](int64_t token) {
    shown.push_back(token);
    if (on_text) on_text(tokenizer.decode(shown));
  });
  return tokenizer.decode(shown);
}

}  // namespace slimformer::eval
