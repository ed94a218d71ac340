// Transformer to RNN (Kasai et al. 2021, "T2R"): chosen softmax attention sublayers become linear
// attention blocks (nn/linear_attention.h) that keep every projection of the pre-trained model and
// add a feature map (learned for t2r, fixed for the elu and rfa baselines), so that after a short
// fine-tuning the decoder runs as an RNN with a fixed-size state per head.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slimformer/models/model_tree.h"

namespace slimformer::methods {

struct LinearizeOptions {
  // Sublayer path patterns (core/glob.h); empty: every attention of the decoder, as the paper.
  std::vector<std::string> sublayers;
  std::string feature_map = "t2r";  // t2r, elu or rfa
  int64_t feature_dim = 32;         // features per head (elu: always the head dimension)
  uint64_t seed = 1;                // draws the new maps' initial (t2r) or random (rfa) values

  // UserErrors naming the flag: unknown map, feature_dim < 1.
  void check() const;
};

// A UserError for a model whose family has no decoder to run as an RNN (an encoder-only model).
void check_has_decoder(const models::TransformerConfig& config);

// The softmax attention sublayers the patterns match, in forward order. UserErrors: an
// encoder-only model (no decoder to run recurrently), a pattern that matches no attention
// sublayer, a matched sublayer that is already linear or removed.
std::vector<std::string> attention_sublayers_to_linearize(models::ModelTree& model,
                                                          const LinearizeOptions& options);

// Converts them (their projections kept, the new maps initialized from options.seed); returns
// their paths. The config records the new blocks, so the model saves and reloads converted.
std::vector<std::string> linearize(models::ModelTree& model, const LinearizeOptions& options);

// The parameters the paper's attention-only fine-tuning trains in the converted sublayers: query,
// key and value projections and the feature maps (as trainer patterns).
std::vector<std::string> attention_only_parameters(const std::vector<std::string>& paths);

}  // namespace slimformer::methods
