// Language-model windows over a token stream: window i covers stream[i * context, (i + 1) *
// context). Its input is BOS followed by the window's tokens but the last, its target the
// window's tokens, so each token of the stream is predicted once, from what precedes it in its
// window. Training and perplexity evaluation share these windows.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "slimformer/data/tokenizer.h"

namespace slimformer::data {

struct WindowBatch {
  torch::Tensor input;   // [B, context]
  torch::Tensor target;  // [B, context]; `pad` where a short final window ends
};

int64_t num_windows(int64_t stream_length, int64_t context);

// The windows `indices` of `stream`, stacked; padded with `pad` past the end of the stream.
WindowBatch make_window_batch(const std::vector<int64_t>& stream,
                              const std::vector<int64_t>& indices, int64_t context, int64_t bos,
                              int64_t pad);

// The token stream of `lines`: each line's tokens, then the tokenizer's line end.
std::vector<int64_t> token_stream(const Tokenizer& tokenizer,
                                  const std::vector<std::string>& lines);

}  // namespace slimformer::data
