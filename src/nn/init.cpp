#include "slimformer/nn/init.h"

namespace slimformer::nn {

void reset_children(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (const auto& child : module.children()) {
    if (auto* own = dynamic_cast<Initializable*>(child.get()))
      own->reset_parameters();
    else
      reset_children(*child);
  }
}

}  // namespace slimformer::nn
