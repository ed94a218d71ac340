// Initialization: every module that holds parameters owns how they start (reset_parameters), and
// a model initializes by seeding once and resetting its parts in registration order, so a model
// built from a config always starts from the same values, whatever blocks it holds.
#pragma once

#include <torch/torch.h>

namespace slimformer::nn {

class Initializable {
 public:
  virtual ~Initializable() = default;
  // Draws this module's parameters from the global generator (seeded by the caller).
  virtual void reset_parameters() = 0;
};

// Resets every part of `module` in registration order: an Initializable child resets itself, any
// other child is searched the same way. Parameters `module` registers directly are left alone.
void reset_children(torch::nn::Module& module);

}  // namespace slimformer::nn
