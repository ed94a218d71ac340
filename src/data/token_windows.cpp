#include "slimformer/data/token_windows.h"

#include <algorithm>

namespace slimformer::data {

int64_t num_windows(int64_t stream_length, int64_t context) {
  return (stream_length + context - 1) / context;
}

WindowBatch make_window_batch(const std::vector<int64_t>& stream,
                              const std::vector<int64_t>& indices, int64_t context, int64_t bos,
                              int64_t pad) {
  const int64_t count = static_cast<int64_t>(indices.size()),
                total = static_cast<int64_t>(stream.size());
  std::vector<int64_t> inputs(count * context, pad), targets(count * context, pad);
  for (int64_t w = 0; w < count; ++w) {
    const int64_t begin = indices[w] * context, length = std::min(context, total - begin);
    int64_t* in = inputs.data() + w * context;
    in[0] = bos;
    std::copy_n(stream.begin() + begin, std::min(length, context - 1), in + 1);
    std::copy_n(stream.begin() + begin, length, targets.data() + w * context);
  }
  return {torch::tensor(inputs, torch::kLong).view({count, context}),
          torch::tensor(targets, torch::kLong).view({count, context})};
}

std::vector<int64_t> token_stream(const Tokenizer& tokenizer,
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

}  // namespace slimformer::data
