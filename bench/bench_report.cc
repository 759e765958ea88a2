#include "bench/bench_report.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

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

double ProcessCpuSeconds(int pid) {
  std::ifstream in("/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid)) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces (proc(5)).
  size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace imprint::bench
