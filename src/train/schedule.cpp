#include "slimformer/train/schedule.h"

#include <algorithm>
#include <cmath>

namespace slimformer::train {

double learning_rate(const ScheduleOptions& o, int64_t step) {
  step = std::max<int64_t>(step, 1);
  if (o.warmup_steps > 0 && step <= o.warmup_steps) return o.peak_lr * step / o.warmup_steps;
  if (o.kind == "inverse_sqrt")
    return o.peak_lr * std::sqrt(double(std::max<int64_t>(o.warmup_steps, 1)) / step);
  if (o.kind == "linear") {
    if (o.total_steps <= o.warmup_steps) return o.peak_lr;
    double left = double(o.total_steps - step) / double(o.total_steps - o.warmup_steps);
    return o.peak_lr * std::max(0.0, left);
  }
  return o.peak_lr;
}

}  // namespace slimformer::train
