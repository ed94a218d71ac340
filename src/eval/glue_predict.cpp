#include "slimformer/eval/glue_predict.h"

#include "slimformer/data/parallel_corpus.h"

namespace slimformer::eval {

GlueBatch glue_batch(const EncodedGlue& data, const std::vector<int64_t>& indices, int64_t pad,
                     const torch::Device& device) {
  std::vector<const data::SegmentPair*> rows;
  std::vector<double> labels;
  for (int64_t i : indices) rows.push_back(&data.inputs[i]), labels.push_back(data.labels[i]);
  auto padded = data::pad_pairs(rows, pad);
  return {padded.tokens.to(device), padded.segments.to(device),
          torch::tensor(labels, torch::kFloat64).to(torch::kFloat32).to(device)};
}

EncodedGlue encode_glue(const std::vector<data::TextExample>& examples,
                        const data::Tokenizer& tokenizer, int64_t max_length) {
  EncodedGlue out;
  for (const auto& e : examples) {
    auto a = tokenizer.encode(e.text_a);
    auto b = e.text_b.empty() ? std::vector<int64_t>{} : tokenizer.encode(e.text_b);
    const int64_t budget = max_length - (b.empty() ? 2 : 3);
    while (static_cast<int64_t>(a.size() + b.size()) > budget)
      (a.size() >= b.size() ? a : b).pop_back();
    data::SegmentPair p;
    p.tokens.push_back(tokenizer.bos_id());
    p.tokens.insert(p.tokens.end(), a.begin(), a.end());
    p.tokens.push_back(tokenizer.eos_id());
    p.segments.assign(p.tokens.size(), 0);
    if (!e.text_b.empty()) {
      p.tokens.insert(p.tokens.end(), b.begin(), b.end());
      p.tokens.push_back(tokenizer.eos_id());
      p.segments.resize(p.tokens.size(), 1);
    }
    out.inputs.push_back(std::move(p));
    out.labels.push_back(e.label);
  }
  return out;
}

torch::Tensor task_logits(const torch::Tensor& logits, LabelSlice slice) {
  return slice.count == 0 ? logits : logits.narrow(1, slice.offset, slice.count);
}

std::vector<double> predict_glue(models::EncoderModelImpl& model, const EncodedGlue& data,
                                 int64_t max_tokens, const torch::Device& device,
                                 LabelSlice slice) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<double> predictions(data.inputs.size());
  for (const auto& indices :
       data::batch_by_tokens(data::pair_lengths(data.inputs), max_tokens, false, 0)) {
    auto b = glue_batch(data, indices, model.config().pad_token_id, device);
    torch::Tensor logits =
        task_logits(model.classify(model.encode(b.tokens, b.segments)), slice).to(torch::kCPU);
    torch::Tensor values = logits.size(1) == 1 ? logits.squeeze(1).to(torch::kFloat64)
                                               : logits.argmax(1).to(torch::kFloat64);
    for (size_t r = 0; r < indices.size(); ++r) predictions[indices[r]] = values[r].item<double>();
  }
  model.train(was_training);
  return predictions;
}

}  // namespace slimformer::eval
