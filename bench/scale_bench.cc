#include "bench/scale_bench.h"

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench/bench_report.h"
#include "bench/bulk_load.h"
#include "ca/admin.h"
#include "ca/audit/commands.h"
#include "ca/authority.h"
#include "ca/revocation/cli.h"
#include "ca/revocation/crl_publisher.h"
#include "ca/revocation/revocation.h"
#include "ca/store/store.h"
#include "common/audit/record.h"
#include "common/file_util.h"
#include "common/sql/connection_pool.h"
#include "common/sql/transaction.h"
#include "common/sqlite/checkpointer.h"
#include "common/x509/certificate_builder.h"
#include "common/x509/csr.h"
#include "common/x509/evp_signer.h"

namespace imprint::bench {
namespace {

constexpr const char* kStation = "bench-scale";
constexpr const char* kOrder = "BENCH-SCALE";

long ResidentKb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// An in-process issuer over one CA state directory, opened as the server opens it: a writer
// whose WAL checkpoints run on their own thread, and a pool of read connections.
struct Issuer {
  std::unique_ptr<sql::Checkpointer> checkpointer;
  std::unique_ptr<sql::ConnectionPool> reads;
  std::unique_ptr<ca::Writer> writer;
  std::unique_ptr<ca::Authority> authority;
};

Result<Issuer> OpenIssuer(const ca::CaConfig& config, ca::CaHsm& hsm,
                          const ca::CaCertificates& certs) {
  IMPRINT_ASSIGN_OR_RETURN(auto write_db, ca::OpenCaWriteDatabase(config));
  Issuer issuer;
  IMPRINT_ASSIGN_OR_RETURN(issuer.checkpointer, sql::Checkpointer::Start(config.DatabasePath()));
  IMPRINT_ASSIGN_OR_RETURN(issuer.reads, ca::OpenCaReadPool(config, 8));
  // No anchor, so nothing is sealed while the rounds run: the two registries (the full one and
  // its empty copy) share one token, whose anchor can vouch for only one of them, and both are
  // measured alike. RunScale seals the full one before and after. Sealing's cost is in `issue`.
  issuer.writer = std::make_unique<ca::Writer>(
      std::move(write_db), ca::SealPolicy{&hsm.audit(), nullptr, config.checkpoint_every});
  issuer.authority =
      std::make_unique<ca::Authority>(config, hsm, certs, *issuer.reads, *issuer.writer);
  return issuer;
}

}  // namespace

// The two registries are measured in alternating rounds (empty, full, empty, ...) and each
// rate is the median of its rounds: on a shared machine the speed drifts within a minute, so
// measuring one registry after the other compared two different machines.
Status RunScale(const ScaleOptions& o) {
  IMPRINT_ASSIGN_OR_RETURN(ca::CaConfig config, ca::CaConfig::Load(o.config));
  config.sessions = std::max(config.sessions, o.threads);
  IMPRINT_ASSIGN_OR_RETURN(auto certs, ca::CaCertificates::Load(config));
  IMPRINT_ASSIGN_OR_RETURN(auto hsm, ca::CaHsm::Open(config));
  IMPRINT_RETURN_IF_ERROR(hsm->LoadKeys(false));
  IMPRINT_ASSIGN_OR_RETURN(auto loader, ca::OpenCaDatabase(config));
  IMPRINT_RETURN_IF_ERROR(
      PrepareOrder(*loader, kOrder, kStation, int64_t{o.devices} + 10 * int64_t{o.count}));
  IMPRINT_RETURN_IF_ERROR(loader->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));

  // The empty registry: a copy of the database as it is now, in a scratch state directory.
  ca::CaConfig empty_config = config;
  empty_config.state_dir = config.state_dir + "-scale-empty";
  std::error_code ec;
  std::filesystem::remove_all(empty_config.state_dir, ec);
  IMPRINT_RETURN_IF_ERROR(MakePrivateDirectory(empty_config.state_dir));
  std::filesystem::copy_file(config.DatabasePath(), empty_config.DatabasePath(), ec);
  if (ec) return Fail(Code::kUnavailable, "cannot copy the registry: " + ec.message());

  auto size_before = std::filesystem::file_size(config.DatabasePath());
  Bytes sample(620, 0x30);
  auto load_start = Clock::now();
  IMPRINT_RETURN_IF_ERROR(BulkLoad(*loader, kOrder, kStation, o.devices, sample));
  double load_seconds = Seconds(Clock::now() - load_start);
  // Sealed as a CA that issued them would have (verifying the loaded records first), so the
  // final audit verify below checks a log the anchor vouches for.
  ca::AuditAnchor anchor(hsm->pool(), ca::MakeSealLocker(config));
  ca::SealPolicy seal{&hsm->audit(), &anchor, config.checkpoint_every};
  ca::WriteOp nothing = [](ca::WriteContext&) -> Status { return {}; };
  IMPRINT_RETURN_IF_ERROR(ca::RunSealed(*loader, nothing, seal));
  IMPRINT_RETURN_IF_ERROR(loader->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  auto size_after = std::filesystem::file_size(config.DatabasePath());
  IMPRINT_ASSIGN_OR_RETURN(Issuer full, OpenIssuer(config, *hsm, certs));
  IMPRINT_ASSIGN_OR_RETURN(Issuer empty, OpenIssuer(empty_config, *hsm, certs));

  constexpr int kRounds = 3;
  std::vector<Bytes> csrs;
  for (int i = 0; i < 2 * kRounds * o.count; ++i) {
    IMPRINT_ASSIGN_OR_RETURN(auto key, x509::GenerateKey("P-256"));
    IMPRINT_ASSIGN_OR_RETURN(auto signer, x509::EvpSigner::Create(std::move(key)));
    IMPRINT_ASSIGN_OR_RETURN(Bytes csr, x509::BuildCsr(*signer, {{"CN", "dev"}}));
    csrs.push_back(std::move(csr));
  }
  auto issue_rate = [&](ca::Authority& authority, int first,
                        const std::string& prefix) -> Result<double> {
    std::atomic<int> next{0};
    std::atomic<bool> failed{false};
    std::vector<std::thread> threads;
    auto start = Clock::now();
    for (int t = 0; t < o.threads; ++t) {
      threads.emplace_back([&] {
        for (int i = next.fetch_add(1); i < o.count; i = next.fetch_add(1)) {
          ca::IssueRequest r{kOrder, prefix + std::to_string(i),
                             csrs[static_cast<size_t>(first + i)], ""};
          if (!authority.IssueDeviceCertificate(kStation, r)) failed = true;
        }
      });
    }
    for (auto& t : threads) t.join();
    if (failed) return Fail(Code::kInternal, "issuance failed during the scale bench");
    return o.count / Seconds(Clock::now() - start);
  };
  std::vector<double> rates_empty;
  std::vector<double> rates_full;
  for (int round = 0; round < kRounds; ++round) {
    std::string tag = std::to_string(round) + "-";
    IMPRINT_ASSIGN_OR_RETURN(
        double e, issue_rate(*empty.authority, 2 * round * o.count, "scale-empty-" + tag));
    IMPRINT_ASSIGN_OR_RETURN(
        double f, issue_rate(*full.authority, (2 * round + 1) * o.count, "scale-full-" + tag));
    rates_empty.push_back(e);
    rates_full.push_back(f);
  }
  std::sort(rates_empty.begin(), rates_empty.end());
  std::sort(rates_full.begin(), rates_full.end());
  double rate_empty = rates_empty[kRounds / 2];
  double rate_full = rates_full[kRounds / 2];
  long rss_kb = ResidentKb();
  full = Issuer{};
  empty = Issuer{};
  IMPRINT_RETURN_IF_ERROR(ca::RunSealed(*loader, nothing, seal));
  std::filesystem::remove_all(empty_config.state_dir, ec);

  auto verify_start = Clock::now();
  IMPRINT_ASSIGN_OR_RETURN(auto summary, ca::AuditVerify(config));
  double verify_seconds = Seconds(Clock::now() - verify_start);

  // The whole order revoked and the CRL published, as `revoke order` and `crl issue` do it
  // (each opens the token and verifies the audit log before it writes).
  ca::RevocationRequest revoke;
  revoke.scope = ca::RevocationRequest::Scope::kOrder;
  revoke.id = kOrder;
  revoke.reason = x509::CrlReason::kCessationOfOperation;
  auto revoke_start = Clock::now();
  ca::RevocationOutcome revoked;
  IMPRINT_ASSIGN_OR_RETURN(revoked, ca::RevokeCommand(config, revoke));
  double revoke_seconds = Seconds(Clock::now() - revoke_start);
  auto crl_start = Clock::now();
  IMPRINT_ASSIGN_OR_RETURN(auto issued, ca::IssueCrlCommand(config));
  const ca::CrlInfo& crl = issued.front().crl;  // the issuing CA's
  double crl_seconds = Seconds(Clock::now() - crl_start);
  PrintResult({{"bench", "scale"},
               {"devices", o.devices},
               {"certs_per_s", rate_full},
               {"certs_per_s_empty", rate_empty},
               {"ratio_full_to_empty", rate_full / rate_empty},
               {"bulk_load_s", load_seconds},
               {"registry_bytes_per_device",
                o.devices > 0 ? static_cast<double>(size_after - size_before) / o.devices : 0},
               {"ca_rss_mb", rss_kb / 1024.0},
               {"audit_records", summary.records},
               {"audit_verify_records_per_s", summary.records / verify_seconds},
               {"revoked", revoked.revoked},
               {"revoke_order_s", revoke_seconds},
               {"crl_publish_s", crl_seconds},
               {"crl_entries", crl.entries},
               {"crl_bytes_per_entry",
                crl.entries > 0 ? static_cast<double>(crl.der.size()) / crl.entries : 0}});
  return {};
}

}  // namespace imprint::bench
