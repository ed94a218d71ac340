// The progress every long pipeline call reports, the same from the program and from Python: a
// core::ProgressBar per phase on stderr (a line every 10 seconds when stderr is not a terminal),
// validation results as log lines.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "slimformer/methods/importance/importance.h"
#include "slimformer/train/trainer.h"

namespace slimformer::pipeline {

// Updates with loss, learning rate and throughput; a log line per validation.
train::TrainCallbacks training_progress(const std::string& label);

// Items done of all with a note: for MeasureOptions::on_progress the rounds and the model being
// timed, for a passage cache the passages.
std::function<void(int64_t, int64_t, const std::string&)> measurement_progress(
    const std::string& label);

// For ImportanceRunOptions::on_progress: a bar per phase (scores, then each removal curve).
std::function<void(const std::string&, const methods::ImportanceProgress&)> importance_progress();

}  // namespace slimformer::pipeline
