#include "progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace slimformer::tools {

std::string format_duration(double seconds) {
  auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{:02}:{:02}", s / 60, s % 60);
}

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)),
      terminal_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

void ProgressBar::update(int64_t done, int64_t total, const std::string& detail) {
  auto now = std::chrono::steady_clock::now();
  // A count that goes back is a new run through the same bar (a command that trains twice).
  if (done < last_done_) start_ = now, rate_from_done_ = -1;
  last_done_ = done;
  // The rate counts from the first update seen, so a resumed run's ETA is its own.
  if (rate_from_done_ < 0) rate_from_ = now, rate_from_done_ = done;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double fraction = total > 0 ? double(done) / double(total) : 0.0;
  const double rate_seconds = std::chrono::duration<double>(now - rate_from_).count();
  const double rate = rate_seconds > 0 ? double(done - rate_from_done_) / rate_seconds : 0.0;
  std::string eta = rate > 0 ? format_duration(double(total - done) / rate) : "--:--";
  if (terminal_) {
    constexpr int kWidth = 24;
    int filled = static_cast<int>(fraction * kWidth);
    std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
    std::fprintf(stderr, "\r\033[K%s [%s] %lld/%lld %s ETA %s", label_.c_str(), bar.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), detail.c_str(),
                 eta.c_str());
    std::fflush(stderr);
    drawn_ = true;
  } else if (std::chrono::duration<double>(now - last_print_).count() >= 10.0 || done == total) {
    std::fprintf(stderr, "%s %lld/%lld %s elapsed %s ETA %s\n", label_.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), detail.c_str(),
                 format_duration(elapsed).c_str(), eta.c_str());
    last_print_ = now;
  }
}

void ProgressBar::finish() {
  if (terminal_ && drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace slimformer::tools
