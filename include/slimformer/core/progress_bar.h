// Progress display for long work, on stderr: a one-line bar redrawn in place on a terminal,
// otherwise (a log file, a notebook) a plain line with step, rate and ETA every 10 seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace slimformer::core {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  // done of total units; `detail` follows the bar (loss, lr, throughput).
  void update(int64_t done, int64_t total, const std::string& detail = "");
  // Ends the bar's line so that normal output can follow.
  void finish();

 private:
  std::string label_;
  bool terminal_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_print_, rate_from_;
  int64_t last_done_ = -1, rate_from_done_ = -1;
};

std::string format_duration(double seconds);

}  // namespace slimformer::core
