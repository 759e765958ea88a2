#pragma once
// Progress: counts finished devices and reports done / failed / rate / ETA to stderr, as a
// redrawn bar on a terminal or a plain line every few seconds otherwise. Thread-safe.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace imprint::station {

class Progress {
 public:
  explicit Progress(int total);
  ~Progress();  // stops the reporter and prints a final line

  void Done(bool failed);

 private:
  void Report(bool final_line);
  int total_;
  bool tty_;
  std::atomic<int> done_{0};
  std::atomic<int> failed_{0};
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread reporter_;
};

}  // namespace imprint::station
