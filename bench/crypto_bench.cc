#include "bench/crypto_bench.h"

#include <atomic>
#include <thread>
#include <vector>

#include "bench/bench_report.h"
#include "ca/config.h"
#include "ca/hsm.h"
#include "common/x509/csr.h"
#include "common/x509/evp_signer.h"

namespace imprint::bench {
namespace {

// Runs `op` on `threads` threads for `seconds`; returns operations per second, or the first
// error any thread met.
template <typename Op>
Result<double> Drive(int threads, double seconds, Latencies& latencies, Op op) {
  std::atomic<bool> stop{false};
  std::atomic<long> done{0};
  std::mutex error_mu;
  std::optional<Error> error;
  std::vector<std::thread> workers;
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (long i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        auto began = Clock::now();
        Status s = op(t, i);
        if (!s) {
          std::lock_guard lock(error_mu);
          if (!error) error = s.error();
          stop = true;
          return;
        }
        latencies.Add(Clock::now() - began);
        done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  if (error) return std::unexpected(*error);
  return static_cast<double>(done.load()) / Seconds(Clock::now() - start);
}

Result<std::unique_ptr<ca::CaHsm>> OpenHsm(const std::string& config_path, int threads) {
  IMPRINT_ASSIGN_OR_RETURN(ca::CaConfig config, ca::CaConfig::Load(config_path));
  config.sessions = std::max(config.sessions, threads);
  IMPRINT_ASSIGN_OR_RETURN(auto hsm, ca::CaHsm::Open(config));
  IMPRINT_RETURN_IF_ERROR(hsm->LoadKeys(false));
  return hsm;
}

}  // namespace

Status RunHsm(const CryptoOptions& o) {
  IMPRINT_ASSIGN_OR_RETURN(auto hsm, OpenHsm(o.config, o.threads));
  Latencies latencies;
  Bytes message(32, 0x5a);
  IMPRINT_ASSIGN_OR_RETURN(double rate,
                           Drive(o.threads, o.seconds, latencies, [&](int, long) -> Status {
                             IMPRINT_ASSIGN_OR_RETURN(Bytes sig, hsm->issuing().Sign(message));
                             return {};
                           }));
  PrintResult(
      {{"bench", "hsm"},
       {"threads", o.threads},
       {"signs_per_s", rate},
       {"p50_ms", latencies.Percentile(0.5)},
       {"p99_ms", latencies.Percentile(0.99)},
       {"algorithm", std::string(x509::SignatureAlgorithmName(hsm->issuing().algorithm()))}});
  return {};
}

Status RunFloor(const CryptoOptions& o) {
  IMPRINT_ASSIGN_OR_RETURN(auto hsm, OpenHsm(o.config, o.threads));
  // Distinct device CSRs made up front, as stations would send them.
  std::vector<Bytes> csrs;
  for (int i = 0; i < 256; ++i) {
    IMPRINT_ASSIGN_OR_RETURN(auto key, x509::GenerateKey("P-256"));
    IMPRINT_ASSIGN_OR_RETURN(auto signer, x509::EvpSigner::Create(std::move(key)));
    IMPRINT_ASSIGN_OR_RETURN(Bytes csr, x509::BuildCsr(*signer, {{"CN", "dev"}}));
    csrs.push_back(std::move(csr));
  }
  Bytes tbs(400, 0x42);  // about the size of a device TBSCertificate
  Latencies latencies;
  IMPRINT_ASSIGN_OR_RETURN(
      double rate, Drive(o.threads, o.seconds, latencies, [&](int t, long i) -> Status {
        IMPRINT_ASSIGN_OR_RETURN(
            auto csr,
            x509::ParseAndVerifyCsr(
                csrs[(static_cast<size_t>(t) * 7919 + static_cast<size_t>(i)) % csrs.size()]));
        IMPRINT_ASSIGN_OR_RETURN(Bytes sig, hsm->issuing().Sign(tbs));
        return {};
      }));
  PrintResult({{"bench", "floor"},
               {"threads", o.threads},
               {"certs_per_s", rate},
               {"p50_ms", latencies.Percentile(0.5)},
               {"p99_ms", latencies.Percentile(0.99)}});
  return {};
}

}  // namespace imprint::bench
