#include "slimformer/eval/perplexity.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "slimformer/core/error.h"
#include "slimformer/data/token_windows.h"
#include "slimformer/train/loss.h"

namespace slimformer::eval {

double PerplexityResult::perplexity() const { return std::exp(loss()); }

double PerplexityResult::word_perplexity() const {
  return words ? std::exp(nll_sum / static_cast<double>(words)) : 0;
}

int64_t count_words(const std::vector<std::string>& lines) {
  int64_t words = 0;
  for (const auto& line : lines) {
    std::istringstream in(line);
    std::string word;
    while (in >> word) ++words;
    ++words;  // the line end
  }
  return words;
}

PerplexityResult perplexity(models::CausalLMImpl& model, const std::vector<int64_t>& stream,
                            const PerplexityOptions& options) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const auto& config = model.config();
  const int64_t context = options.context > 0 ? options.context : config.max_position_embeddings;
  if (context > config.max_position_embeddings)
    throw core::UserError(fmt::format("context {} exceeds the model's max_position_embeddings {}",
                                      context, config.max_position_embeddings));
  const int64_t windows = data::num_windows(static_cast<int64_t>(stream.size()), context);
  auto device = model.embed_tokens->weight.device();
  PerplexityResult result;
  for (int64_t first = 0; first < windows; first += options.batch_size) {
    std::vector<int64_t> indices;
    for (int64_t w = first; w < std::min(windows, first + options.batch_size); ++w)
      indices.push_back(w);
    auto batch =
        data::make_window_batch(stream, indices, context, config.bos_token_id, config.pad_token_id);
    auto loss = train::label_smoothed_cross_entropy(
        model.forward(batch.input.to(device)), batch.target.to(device), 0.0, config.pad_token_id);
    result.nll_sum += loss.nll_sum.item<double>();
    result.tokens += loss.tokens;
    const int64_t done = first + static_cast<int64_t>(indices.size());
    if (options.on_progress) options.on_progress(done, windows);
  }
  model.train(was_training);
  return result;
}

}  // namespace slimformer::eval
