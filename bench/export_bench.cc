#include "bench/export_bench.h"

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "bench/bench_report.h"
#include "bench/bulk_load.h"
#include "ca/admin_session.h"
#include "ca/ca_files.h"
#include "ca/handover/manifest_identity.h"
#include "ca/store/store.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"

extern char** environ;

namespace imprint::bench {
namespace {

constexpr const char* kOrder = "BENCH-EXPORT";
constexpr const char* kStation = "bench-export";

struct ChildRun {
  double seconds = 0;
  long max_rss_kb = 0;
};

// Runs `argv` to completion; its wall time and peak resident memory (wait4's rusage).
Result<ChildRun> RunChild(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto start = Clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) {
    return Fail(Code::kUnavailable, "cannot start " + argv[0]);
  }
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) != pid) return Fail(Code::kInternal, "wait4 failed");
  ChildRun run{Seconds(Clock::now() - start), usage.ru_maxrss};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Fail(Code::kInternal,
                argv[0] + " " + argv[1] + " failed (status " + std::to_string(status) + ")");
  }
  return run;
}

// One real device certificate (from the issuing key, device profile) for every loaded row.
Result<Bytes> SampleCertificate(const ca::CaConfig& config, ca::CaHsm& hsm,
                                const ca::CaCertificates& certs) {
  IMPRINT_ASSIGN_OR_RETURN(auto key, x509::GenerateKey("P-256"));
  IMPRINT_ASSIGN_OR_RETURN(Bytes random, hsm.Random(x509::kSerialBytes));
  x509::CertificateRequest request;
  request.profile = &config.profiles.at("device");
  request.subject.name = {{"CN", "bench-export-sample"}, {"O", config.organization}};
  request.public_key = key.get();
  request.serial = x509::MakeSerial(random);
  IMPRINT_ASSIGN_OR_RETURN(auto cert,
                           x509::IssueCertificate(request, certs.issuing.get(), hsm.issuing()));
  return x509::CertificateToDer(cert.get());
}

// Signatures per second with the manifest key on `threads` threads: the export's ceiling.
Result<double> ManifestCeiling(p11::Pkcs11Signer& signer, int threads, double seconds) {
  std::atomic<bool> stop{false}, failed{false};
  std::atomic<long> done{0};
  std::vector<std::thread> workers;
  Bytes message(1500, 0x5a);  // about a manifest entry's signing input
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (!stop) {
        if (!signer.Sign(message)) failed = true;
        done.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  if (failed) return Fail(Code::kInternal, "a manifest key signature failed");
  return static_cast<double>(done.load()) / Seconds(Clock::now() - start);
}

uintmax_t DirectoryBytes(const std::string& dir) {
  uintmax_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) total += e.file_size();
  return total;
}

}  // namespace

Status RunExportBench(const ExportBenchOptions& o) {
  IMPRINT_ASSIGN_OR_RETURN(ca::CaConfig config, ca::CaConfig::Load(o.config));
  IMPRINT_ASSIGN_OR_RETURN(auto certs, ca::CaCertificates::Load(config));
  IMPRINT_ASSIGN_OR_RETURN(ca::AdminSession s, ca::AdminSession::OpenToken(config));
  IMPRINT_ASSIGN_OR_RETURN(Bytes sample, SampleCertificate(config, *s.hsm, certs));
  {
    IMPRINT_ASSIGN_OR_RETURN(auto db, ca::OpenCaDatabase(config));
    IMPRINT_RETURN_IF_ERROR(PrepareOrder(*db, kOrder, kStation, o.devices));
    IMPRINT_RETURN_IF_ERROR(BulkLoad(*db, kOrder, kStation, o.devices, sample));
    IMPRINT_RETURN_IF_ERROR(
        db->Exec("UPDATE orders SET issued = quota, verified = quota, "
                 "status = 'closed' WHERE id = 'BENCH-EXPORT'"));
    // Sealed as a CA that issued them would have.
    ca::WriteOp nothing = [](ca::WriteContext&) -> Status { return {}; };
    IMPRINT_RETURN_IF_ERROR(ca::RunSealed(*db, nothing, s.seal(config)));
    IMPRINT_RETURN_IF_ERROR(db->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  }
  IMPRINT_ASSIGN_OR_RETURN(auto manifest, ca::LoadManifestIdentity(config, *s.hsm, certs));
  int threads = std::clamp(config.sessions, 1, 16);  // as the manifest export signs

  nlohmann::json result = {{"bench", "export"}, {"devices", o.devices}, {"sign_threads", threads}};
  for (const char* format : {"aws-iot", "csv", "manifest"}) {
    std::string out = config.state_dir + "-export-" + format;
    std::error_code ec;
    std::filesystem::remove_all(out, ec);
    IMPRINT_ASSIGN_OR_RETURN(
        ChildRun run, RunChild({o.imprint_ca, "export", "--config", o.config, "--order", kOrder,
                                "--format", format, "--out", out}));
    std::string key = format == std::string("aws-iot") ? "aws" : format;
    result[key + "_devices_per_s"] = o.devices / run.seconds;
    result[key + "_s"] = run.seconds;
    result[key + "_rss_mb"] = static_cast<double>(run.max_rss_kb) / 1024.0;
    result[key + "_bytes_per_device"] = static_cast<double>(DirectoryBytes(out)) / o.devices;
    std::filesystem::remove_all(out, ec);
  }
  IMPRINT_ASSIGN_OR_RETURN(double ceiling,
                           ManifestCeiling(*manifest.signer, threads, o.ceiling_seconds));
  result["manifest_key_signs_per_s"] = ceiling;
  result["manifest_ratio_to_ceiling"] = result["manifest_devices_per_s"].get<double>() / ceiling;
  PrintResult(result);
  return {};
}

}  // namespace imprint::bench
