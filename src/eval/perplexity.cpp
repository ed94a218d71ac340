#include "slimformer/eval/perplexity.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace slimformer::eval {

double PerplexityResult::perplexity() const { return std::exp(loss()); }

double PerplexityResult::word_perplexity() const {
  return words ? std::exp(nll_sum / static_cast<double>(words)) : 0;
}

std::vector<int64_t> token_stream(const data::Tokenizer& tokenizer,
                                  const std::vector<std::string>& lines) {
  std::vector<int64_t> stream;
  const auto line_end = tokenizer.line_end_ids();
  for (const auto& line : lines) {
    auto ids = tokenizer.encode(line);
    stream.insert(stream.end(), ids.begin(), ids.end());
    stream.insert(stream.end(), line_end.begin(), line_end.end());
  }
  return stream;
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
  model.eval();
  const auto& config = model.config();
  const int64_t context =
      options.context > 0 ? options.context : config.max_position_embeddings - 1;
  const int64_t total = static_cast<int64_t>(stream.size());
  const int64_t windows = (total + context - 1) / context;
  auto device = model.embed_tokens->weight.device();
  PerplexityResult result;
  for (int64_t first = 0; first < windows; first += options.batch_size) {
    const int64_t count = std::min(options.batch_size, windows - first);
    // Inputs: BOS then the window's tokens but the last; targets: the window's tokens. Short
    // final windows are padded and their padding is not scored.
    std::vector<int64_t> inputs(count * context, config.pad_token_id), targets(count * context, -1);
    for (int64_t w = 0; w < count; ++w) {
      const int64_t begin = (first + w) * context, length = std::min(context, total - begin);
      int64_t* in = inputs.data() + w * context;
      in[0] = config.bos_token_id;
      std::copy_n(stream.begin() + begin, std::min(length, context - 1), in + 1);
      std::copy_n(stream.begin() + begin, length, targets.data() + w * context);
    }
    torch::Tensor input = torch::tensor(inputs, torch::kLong).view({count, context});
    torch::Tensor target = torch::tensor(targets, torch::kLong).view({count, context});
    torch::Tensor logits = model.forward(input.to(device)).to(torch::kCPU, torch::kFloat32);
    torch::Tensor nll = torch::nn::functional::cross_entropy(
        logits.view({-1, logits.size(-1)}), target.view({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-1).reduction(torch::kSum));
    result.nll_sum += nll.item<double>();
    result.tokens += target.ge(0).sum().item<int64_t>();
    if (options.on_progress) options.on_progress(first + count, windows);
  }
  return result;
}

}  // namespace slimformer::eval
