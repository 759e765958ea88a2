#pragma once
// Measurement helpers for imprint-bench: latency percentiles and the one-line JSON result each
// subcommand prints last on stdout.

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace imprint::bench {

using Clock = std::chrono::steady_clock;

// Collects per-operation latencies from many threads.
class Latencies {
 public:
  void Add(Clock::duration d) {
    std::lock_guard lock(mu_);
    ms_.push_back(std::chrono::duration<double, std::milli>(d).count());
  }
  // Percentile in milliseconds (p in [0, 1]); 0 with no samples.
  double Percentile(double p);
  size_t count();

 private:
  std::mutex mu_;
  std::vector<double> ms_;
};

// Prints `result` as one JSON line on stdout.
void PrintResult(const nlohmann::json& result);

double Seconds(Clock::duration d);

// CPU time (user + system) used so far by process `pid` (0: this process), in seconds, read
// from /proc/PID/stat; -1 when it cannot be read. CPU per operation holds on a shared, noisy
// machine where rates do not.
double ProcessCpuSeconds(int pid = 0);

// CPU used since construction by this process and, when `ca_pid` is set, by the CA.
class CpuSpan {
 public:
  explicit CpuSpan(int ca_pid)
      : ca_pid_(ca_pid),
        own_start_(ProcessCpuSeconds()),
        ca_start_(ca_pid ? ProcessCpuSeconds(ca_pid) : 0) {}
  double OwnSeconds() const { return ProcessCpuSeconds() - own_start_; }
  // nullopt without a CA process id.
  std::optional<double> CaSeconds() const {
    if (ca_pid_ == 0) return std::nullopt;
    return ProcessCpuSeconds(ca_pid_) - ca_start_;
  }

 private:
  int ca_pid_;
  double own_start_;
  double ca_start_;
};

// CPU seconds used by a set of processes (CA nodes, a database's processes) since construction.
class ProcessesCpu {
 public:
  explicit ProcessesCpu(std::vector<int> pids) : pids_(std::move(pids)), start_(Sum()) {}
  double Seconds() const { return Sum() - start_; }

 private:
  double Sum() const {
    double total = 0;
    for (int pid : pids_) total += ProcessCpuSeconds(pid);
    return total;
  }
  std::vector<int> pids_;
  double start_;
};

}  // namespace imprint::bench
