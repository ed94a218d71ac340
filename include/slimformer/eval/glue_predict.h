// GLUE-style sentence and sentence-pair inputs for an encoder: examples encoded as
// "[CLS] a [SEP] b [SEP]" with segment ids, batched by a token budget, and the predictions of a
// classification (or regression) head.
#pragma once

#include <vector>

#include "slimformer/data/masked_lm.h"
#include "slimformer/data/text_task.h"
#include "slimformer/data/tokenizer.h"
#include "slimformer/models/encoder.h"

namespace slimformer::eval {

struct EncodedGlue {
  std::vector<data::SegmentPair> inputs;
  std::vector<double> labels;
};

// Encodes examples, truncating the longer text first to fit `max_length`.
EncodedGlue encode_glue(const std::vector<data::TextExample>& examples,
                        const data::Tokenizer& tokenizer, int64_t max_length);

struct GlueBatch {
  torch::Tensor tokens, segments, labels;
};
// The examples `indices` padded into one batch on `device`.
GlueBatch glue_batch(const EncodedGlue& data, const std::vector<int64_t>& indices, int64_t pad,
                     const torch::Device& device);

// The outputs of a classification head that belong to one task, where several tasks share the
// head (tasks/multi_task_glue_task.h): count outputs from offset; count 0: every output.
struct LabelSlice {
  int64_t offset = 0, count = 0;
};
// logits [B, labels] narrowed to the slice's outputs.
torch::Tensor task_logits(const torch::Tensor& logits, LabelSlice slice);

// Predictions (class index within the slice, or score for regression) of a classification
// encoder.
std::vector<double> predict_glue(models::EncoderModelImpl& model, const EncodedGlue& data,
                                 int64_t max_tokens, const torch::Device& device,
                                 LabelSlice slice = {});

}  // namespace slimformer::eval
