#include "bench/service_bench.h"

#include <openssl/rand.h>

#include <filesystem>
#include <sstream>

#include "bench/bench_report.h"
#include "bench/issue_load.h"
#include "common/x509/chain.h"
#include "common/x509/csr.h"
#include "common/x509/encoding.h"
#include "common/x509/evp_signer.h"
#include "device_agent/harness.h"
#include "factory_station/line_runner.h"
#include "factory_station/station_identity.h"
#include "imprint/v1/ca.grpc.pb.h"

namespace imprint::bench {
namespace {

std::string RandomTag() {
  Bytes random(4);
  RAND_bytes(random.data(), static_cast<int>(random.size()));
  return HexEncode(random);
}

Status SpotCheck(const std::vector<IssueItem>& issued, X509* root) {
  size_t step = std::max<size_t>(1, issued.size() / 25);
  for (size_t i = 0; i < issued.size(); i += step) {
    IMPRINT_ASSIGN_OR_RETURN(auto cert,
                             x509::ParseCertificateDer(AsBytes(issued[i].certificate_der)));
    IMPRINT_ASSIGN_OR_RETURN(auto issuing,
                             x509::ParseCertificateDer(AsBytes(issued[i].chain_der.at(0))));
    std::vector<X509*> intermediates{issuing.get()};
    IMPRINT_RETURN_IF_ERROR(x509::VerifyChain(cert.get(), intermediates, root));
    IMPRINT_ASSIGN_OR_RETURN(auto csr, x509::ParseAndVerifyCsr(issued[i].csr));
    if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), csr.public_key.get()) != 1) {
      return Fail(Code::kDataLoss, "issued certificate does not carry the CSR's key");
    }
  }
  return {};
}

}  // namespace

Status RunIssue(const IssueOptions& o) {
  if (o.rpc != "unary" && o.rpc != "stream") {
    return Fail(Code::kInvalidArgument, "--rpc takes unary or stream");
  }
  if (o.depth < 1 || o.depth > 256) return Fail(Code::kInvalidArgument, "--depth takes 1..256");
  IMPRINT_ASSIGN_OR_RETURN(auto identity, station::StationIdentity::Load(o.station_dir));
  std::vector<IssueItem> work(static_cast<size_t>(o.count));
  std::string tag = RandomTag();
  for (size_t i = 0; i < work.size(); ++i) {
    IMPRINT_ASSIGN_OR_RETURN(auto key, x509::GenerateKey("P-256"));
    IMPRINT_ASSIGN_OR_RETURN(auto signer, x509::EvpSigner::Create(std::move(key)));
    IMPRINT_ASSIGN_OR_RETURN(work[i].csr, x509::BuildCsr(*signer, {{"CN", "bench"}}));
    work[i].device_id = "bench-" + tag + "-" + std::to_string(i);
  }
  std::vector<std::string> listeners;
  for (const std::string& ca : o.cas) {
    IMPRINT_ASSIGN_OR_RETURN(std::string listener, identity.FindStationListener(ca));
    listeners.push_back(std::move(listener));
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int c = 0; c < o.clients; ++c) {
    channels.push_back(identity.Connect(listeners[static_cast<size_t>(c) % listeners.size()],
                                        station::RetryPolicy{}));
  }
  // Connected before the clock starts: issuance is measured, not sixteen TLS handshakes.
  for (size_t c = 0; c < channels.size(); ++c) {
    if (!channels[c]->WaitForConnected(std::chrono::system_clock::now() +
                                       std::chrono::seconds(30))) {
      return Fail(Code::kUnavailable,
                  "cannot reach the CA's station listener at " + listeners[c % listeners.size()]);
    }
  }
  Latencies latencies;
  CpuSpan cpu(0);
  ProcessesCpu ca_cpu(o.ca_pids), store_cpu(o.store_pids);
  auto start = Clock::now();
  Status driven = o.rpc == "stream"
                      ? DriveIssuanceStreams(channels, o.order, work, o.depth, latencies)
                      : DriveIssuance(channels, o.order, work, latencies);
  double seconds = Seconds(Clock::now() - start);
  double per_cert_us = 1e6 / o.count;
  nlohmann::json result = {{"bench", "issue"},
                           {"nodes", o.cas.size()},
                           {"clients", o.clients},
                           {"rpc", o.rpc},
                           {"depth", o.depth},
                           {"count", o.count},
                           {"certs_per_s", o.count / seconds},
                           {"p50_ms", latencies.Percentile(0.5)},
                           {"p99_ms", latencies.Percentile(0.99)},
                           {"client_cpu_us_per_cert", cpu.OwnSeconds() * per_cert_us}};
  if (!o.ca_pids.empty()) result["ca_cpu_us_per_cert"] = ca_cpu.Seconds() * per_cert_us;
  if (!o.store_pids.empty()) result["store_cpu_us_per_cert"] = store_cpu.Seconds() * per_cert_us;
  IMPRINT_RETURN_IF_ERROR(driven);
  IMPRINT_RETURN_IF_ERROR(SpotCheck(work, identity.root()));
  PrintResult(result);
  return {};
}

Status RunLineBench(const LineOptions& o) {
  std::string root = std::filesystem::temp_directory_path() / ("imprint-bench-line-" + RandomTag());
  agent::HarnessOptions h;
  h.count = o.devices;
  h.store_root = root;
  h.id_prefix = "bench-" + RandomTag();
  h.key_backend = o.key_backend;
  h.pkcs11_module = o.pkcs11_module;
  h.token_uri = o.token_uri;
  h.pin_file = o.pin_file;
  h.tpm_tctis = o.tpm_tctis;
  h.tpm_attestation = o.tpm_attestation;
  IMPRINT_ASSIGN_OR_RETURN(auto harness, agent::Harness::Start(h));
  station::ProvisionOptions p;
  p.state_dir = o.station_dir;
  p.ca_addresses = {o.ca};
  p.order = o.order;
  p.devices = harness->addresses();
  p.parallel = o.parallel;
  p.offline = o.offline;
  p.reconcile_first = false;  // the offline rounds' logs are reconciled, and timed, at the end
  std::ostringstream log;
  // CPU of this process (the station and the simulated devices) and of the CA while the line
  // runs: what the two shared cores spend per device.
  CpuSpan cpu(o.ca_pid);
  auto summary = station::RunLine(p, log);
  double own_seconds = cpu.OwnSeconds();
  std::optional<double> ca_seconds = cpu.CaSeconds();
  harness->Shutdown();
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  if (!summary) return std::unexpected(summary.error());
  if (summary->failed != 0 || summary->provisioned != o.devices) {
    return Fail(Code::kInternal, "line bench: " + log.str());
  }
  double per_device_ms = 1e3 / o.devices;
  nlohmann::json result = {{"bench", "line"},
                           {"devices", o.devices},
                           {"key_backend", o.key_backend},
                           {"key_attestation", o.key_backend == "tpm" && o.tpm_attestation},
                           {"offline", o.offline},
                           {"parallel", o.parallel},
                           {"devices_per_s", summary->devices_per_second},
                           {"p50_ms", summary->p50_ms},
                           {"p99_ms", summary->p99_ms},
                           {"station_and_devices_cpu_ms_per_device", own_seconds * per_device_ms}};
  if (ca_seconds) result["ca_cpu_ms_per_device"] = *ca_seconds * per_device_ms;
  PrintResult(result);
  return {};
}

}  // namespace imprint::bench
