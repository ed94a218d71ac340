// Learning-rate schedules.
#pragma once

#include <string>

namespace slimformer::train {

struct ScheduleOptions {
  std::string kind = "inverse_sqrt";  // inverse_sqrt | linear | constant
  double peak_lr = 5e-4;
  int64_t warmup_steps = 4000;
  int64_t total_steps = 0;  // linear decay ends here
};

// Learning rate at update `step` (1-based): linear warm-up to the peak, then
//   inverse_sqrt: peak * sqrt(warmup / step)   (Vaswani et al., as in fairseq)
//   linear:       decays linearly to 0 at total_steps
//   constant:     peak
double learning_rate(const ScheduleOptions& options, int64_t step);

}  // namespace slimformer::train
