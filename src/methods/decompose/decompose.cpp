#include "slimformer/methods/decompose/decompose.h"

#include <fmt/format.h>

#include "slimformer/core/error.h"

namespace slimformer::methods {

void check_decomposable(const models::TransformerConfig& config, int64_t k,
                        const data::TextTask* task, const std::string& model_name) {
  const std::string needs =
      "decompose needs an encoder with a pair input (a span head, or a classification head "
      "fine-tuned on a sentence-pair task)";
  if (!config.is_encoder())
    throw core::UserError(
        fmt::format("{}; {} is a {} model", needs, model_name, config.model_type));
  if (config.encoder_head == "mlm")
    throw core::UserError(fmt::format("{}; {} has a masked-LM head", needs, model_name));
  if (config.encoder_head == "classification" && !task)
    throw core::UserError(fmt::format(
        "{}; {} records no task, so its input may be single sentences", needs, model_name));
  if (config.encoder_head == "classification" && !task->pair())
    throw core::UserError(fmt::format("{}; {} is fine-tuned on {}, a single-sentence task", needs,
                                      model_name, task->name));
  if (k < 0 || k > config.encoder_layers)
    throw core::UserError(
        fmt::format("--k {} is outside [0, {}], the encoder's layers", k, config.encoder_layers));
}

std::vector<std::string> upper_layer_taps(const models::TransformerConfig& config, int64_t k) {
  std::vector<std::string> taps;
  for (int64_t i = k; i < config.encoder_layers; ++i)
    taps.push_back(fmt::format("encoder.layers.{}", i));
  return taps;
}

int64_t passage_start(int64_t max_query_length) { return max_query_length + 2; }

bool position_invariant(const models::TransformerConfig& config) {
  return config.position_embedding == "rotary";
}

torch::Tensor segment_states(models::EncoderModelImpl& model, const torch::Tensor& tokens,
                             int64_t segment, int64_t start) {
  torch::Tensor segments = torch::full_like(tokens, segment);
  torch::Tensor hidden = model.embed(tokens, segments, start);
  return model.run_layers(hidden, model.padding_mask(tokens), 0, model.config().separate_layers,
                          start);
}

models::SpanLogits joined_span_logits(models::EncoderModelImpl& model,
                                      const torch::Tensor& question_tokens,
                                      const torch::Tensor& question_states,
                                      const torch::Tensor& passage_tokens,
                                      const torch::Tensor& passage_states) {
  const int64_t windows = passage_tokens.size(0);
  torch::Tensor tokens = torch::cat({question_tokens.expand({windows, -1}), passage_tokens}, 1);
  torch::Tensor hidden = torch::cat(
      {question_states.expand({windows, -1, -1}), passage_states.to(question_states.dtype())}, 1);
  hidden = model.run_layers(hidden, model.padding_mask(tokens), model.config().separate_layers, -1);
  auto logits = model.span_logits(hidden);
  torch::Tensor padding = tokens.eq(model.config().pad_token_id);
  logits.start = logits.start.masked_fill(padding, -1e4);
  logits.end = logits.end.masked_fill(padding, -1e4);
  return logits;
}

}  // namespace slimformer::methods
