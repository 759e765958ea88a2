#include "bench/bench_report.h"

#include <algorithm>
#include <iostream>

namespace imprint::bench {

double Latencies::Percentile(double p) {
  std::lock_guard lock(mu_);
  if (ms_.empty()) return 0;
  std::sort(ms_.begin(), ms_.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(ms_.size() - 1) + 0.5);
  return ms_[std::min(index, ms_.size() - 1)];
}

size_t Latencies::count() {
  std::lock_guard lock(mu_);
  return ms_.size();
}

void PrintResult(const nlohmann::json& result) { std::cout << result.dump() << std::endl; }

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace imprint::bench
