#include "slimformer/core/progress_bar.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace slimformer::core {

std::string format_duration(double seconds) {
  auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{:02}:{:02}", s / 60, s % 60);
}

namespace {

// "12.3", "0.45", "1234": three significant digits or more.
std::string format_rate(double rate) {
  return rate >= 100 ? fmt::format("{:.0f}", rate) : rate >= 1 ? fmt::format("{:.1f}", rate)
                                                                : fmt::format("{:.2f}", rate);
}

}  // namespace

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)),
      terminal_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

void ProgressBar::update(int64_t done, int64_t total, const std::string& detail) {
  auto now = std::chrono::steady_clock::now();
  // A count that starts (the bar may be made long before its work) or goes back (a command
  // that trains twice) starts the clock.
  if (last_done_ < 0 || done < last_done_) start_ = last_print_ = now, rate_from_done_ = -1;
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
    std::fprintf(stderr, "%s %lld/%lld %s elapsed %s, %s/s, ETA %s\n", label_.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), detail.c_str(),
                 format_duration(elapsed).c_str(), format_rate(rate).c_str(), eta.c_str());
    last_print_ = now;
  }
}

void ProgressBar::finish() {
  if (terminal_ && drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace slimformer::core
