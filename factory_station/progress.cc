#include "factory_station/progress.h"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace imprint::station {

Progress::Progress(int total) : total_(total), tty_(::isatty(STDERR_FILENO) == 1) {
  reporter_ = std::thread([this] {
    auto period = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(2000);
    std::unique_lock lock(mu_);
    while (!stop_cv_.wait_for(lock, period, [&] { return stop_; })) Report(false);
  });
}

Progress::~Progress() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  reporter_.join();
  Report(true);
}

void Progress::Done(bool failed) {
  done_.fetch_add(1);
  if (failed) failed_.fetch_add(1);
}

void Progress::Report(bool final_line) {
  int done = done_.load();
  int failed = failed_.load();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? done / elapsed : 0;
  double eta = rate > 0 ? (total_ - done) / rate : 0;
  char line[160];
  if (tty_) {
    constexpr int kWidth = 30;
    int filled = total_ > 0 ? done * kWidth / total_ : kWidth;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::snprintf(line, sizeof(line), "\r[%s] %d/%d done, %d failed, %.1f/s, ETA %.0fs%s",
                  bar.c_str(), done, total_, failed, rate, eta, final_line ? "\n" : "  ");
  } else {
    std::snprintf(line, sizeof(line), "progress: %d/%d done, %d failed, %.1f/s, ETA %.0fs\n", done,
                  total_, failed, rate, eta);
  }
  std::fputs(line, stderr);
  std::fflush(stderr);
}

}  // namespace imprint::station
