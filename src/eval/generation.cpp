#include "slimformer/eval/generation.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "slimformer/core/error.h"

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

std::vector<int64_t> generate(models::CausalLMImpl& model, const std::vector<int64_t>& prompt,
                              const GenerateOptions& options,
                              const std::function<void(int64_t)>& on_token) {
  if (prompt.empty()) throw core::UserError("generate: the prompt has no tokens");
  const int64_t room = model.config().max_position_embeddings - static_cast<int64_t>(prompt.size());
  if (room < 1)
    throw core::UserError(
        fmt::format("generate: the prompt has {} tokens; the model's context is {}", prompt.size(),
                    model.config().max_position_embeddings));
  c10::InferenceMode inference;
  model.eval();
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  auto device = model.embed_tokens->weight.device();
  auto state = model.make_state(static_cast<int64_t>(prompt.size()) + room);
  torch::Tensor input =
      torch::tensor(prompt, torch::TensorOptions().dtype(torch::kLong)).unsqueeze(0).to(device);
  std::vector<int64_t> out;
  const int64_t steps = std::min(options.max_new_tokens, room);
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

}  // namespace slimformer::eval
