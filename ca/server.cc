#include "ca/server.h"

#include <openssl/crypto.h>
#include <signal.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "ca/admin_session.h"
#include "ca/audit/start.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/process_guard.h"
#include "common/rpc/grpc_log.h"
#include "common/signals.h"

namespace imprint::ca {
namespace {

constexpr int kMaxMessageBytes = 256 * 1024;
constexpr auto kHousekeepingPeriod = std::chrono::seconds(5);

// Connection limits (gRPC server arguments). A peer that connects and says nothing is dropped
// when the TLS handshake has not finished in kHandshakeMs; a connection without calls is
// closed after the idle time; keepalive pings find peers that vanished.
constexpr int kHandshakeMs = 10'000;
constexpr int kOpenIdleMs = 30'000;  // enrollment and chain: one call, then gone
constexpr int kOpenAgeMs = 120'000;
constexpr int kStationIdleMs = 300'000;  // a station between orders reconnects on its own
constexpr int kKeepaliveMs = 60'000;
constexpr int kKeepaliveTimeoutMs = 20'000;

Result<std::shared_ptr<grpc::ServerCredentials>> TlsCredentials(const CaConfig& config,
                                                                bool require_client_cert) {
  IMPRINT_ASSIGN_OR_RETURN(std::string key, ReadWholeFile(config.TlsKeyPath()));
  IMPRINT_ASSIGN_OR_RETURN(std::string cert, ReadWholeFile(config.TlsCertPath()));
  IMPRINT_ASSIGN_OR_RETURN(std::string chain, ReadWholeFile(config.ChainPemPath()));
  // The station listener refuses a client without a certificate from this CA during the
  // handshake, before any call reaches the Authority; the open listener asks for none.
  grpc::SslServerCredentialsOptions options(
      require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                          : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (require_client_cert) options.pem_root_certs = chain;
  options.pem_key_cert_pairs.push_back({key, cert});
  OPENSSL_cleanse(key.data(), key.size());
  auto credentials = grpc::SslServerCredentials(options);
  // gRPC keeps its own copy of the key (docs/operations.md); ours are wiped.
  for (auto& pair : options.pem_key_cert_pairs) {
    OPENSSL_cleanse(pair.private_key.data(), pair.private_key.size());
  }
  return credentials;
}

// How the open-file limit is shared (docs/operations.md "Listeners, connections and hostile
// peers"): 128 descriptors for the CA itself (store, token, files), 384 for the HTTP listeners'
// caps (ca/http/server.h), and the rest for the two gRPC listeners, a quarter of it (at most
// 1024) for the open listener, where only enrollment and health checks go.
struct ListenerBudget {
  GateLimits open;
  GateLimits stations;
};

ListenerBudget BudgetFor(uint64_t files) {
  uint64_t usable = files > 128 + 384 + 64 ? files - 128 - 384 : 64;
  ListenerBudget b;
  b.open.max_connections = static_cast<unsigned>(std::clamp<uint64_t>(usable / 4, 16, 1024));
  b.open.max_per_source = std::clamp(b.open.max_connections / 4, 4u, 32u);
  b.stations.max_connections =
      static_cast<unsigned>(std::max<uint64_t>(usable - b.open.max_connections, 16));
  // One address never takes the whole listener: at most half of it (a quarter when it is large).
  b.stations.max_per_source =
      std::max(b.stations.max_connections / 4, std::min(64u, b.stations.max_connections / 2));
  return b;
}

uint64_t OpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return limit.rlim_cur;
}

void ApplyConnectionLimits(grpc::ServerBuilder& builder, int idle_ms, int age_ms) {
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, kHandshakeMs);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, idle_ms);
  if (age_ms > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, age_ms);
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, 10'000);
  }
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
}

// "HOST:PORT" of the station listener: the override, the configured address, or the open
// listener's host with the next port (port 0 stays 0: a free port).
std::string StationAddress(const CaConfig& config, const std::string& open_address,
                           const std::string& station_override) {
  if (!station_override.empty()) return station_override;
  if (!config.station_listen.empty()) return config.station_listen;
  std::string host = ListenHost(open_address);
  std::string port = open_address.substr(std::min(open_address.size(), host.size() + 1));
  int p = 0;
  try {
    p = std::stoi(port);
  } catch (...) {
    p = 0;
  }
  return host + ":" + std::to_string(p == 0 ? 0 : p + 1);
}

}  // namespace

Result<std::unique_ptr<CaServer>> CaServer::Start(const CaConfig& config, const std::string& listen,
                                                  const std::string& station_listen) {
  std::unique_ptr<CaServer> s(new CaServer());
  s->config_ = config;
  IMPRINT_ASSIGN_OR_RETURN(s->certs_, CaCertificates::Load(config));
  IMPRINT_ASSIGN_OR_RETURN(s->hsm_, CaHsm::Open(config));
  IMPRINT_RETURN_IF_ERROR(s->hsm_->LoadKeys(false));
  IMPRINT_ASSIGN_OR_RETURN(auto write_db, OpenCaWriteDatabase(config));
  s->anchor_ = std::make_unique<AuditAnchor>(s->hsm_->pool(), MakeSealLocker(config));
  SealPolicy seal{&s->hsm_->audit(), s->anchor_.get(), config.checkpoint_every};
  IMPRINT_RETURN_IF_ERROR(VerifyBeforeWriting(*write_db, seal, "serve"));
  IMPRINT_ASSIGN_OR_RETURN(s->upkeep_, StartStoreUpkeep(config));
  IMPRINT_ASSIGN_OR_RETURN(s->reads_, OpenCaReadPool(config, 8));
  s->writer_ = std::make_unique<Writer>(std::move(write_db), seal);
  s->authority_ =
      std::make_unique<Authority>(s->config_, *s->hsm_, s->certs_, *s->reads_, *s->writer_);
  s->authority_->set_metrics(&s->metrics_);
  IMPRINT_RETURN_IF_ERROR(s->authority_->LoadTpmRoots());
  s->service_ = std::make_unique<CaService>(*s->authority_, &s->metrics_);
  s->allowances_ =
      std::make_unique<AllowanceDesk>(s->config_, *s->hsm_, s->certs_, *s->reads_, *s->writer_);
  s->service_->set_allowances(s->allowances_.get());
  s->issue_stream_ = std::make_unique<IssueStreamService>(*s->service_);
  s->enrollment_ = std::make_unique<EnrollmentService>(*s->service_);
  grpc::EnableDefaultHealthCheckService(true);

  ListenerBudget budget = BudgetFor(OpenFileLimit());
  std::string open_address = listen.empty() ? config.listen : listen;
  std::string station_address = StationAddress(config, open_address, station_listen);
  {
    IMPRINT_ASSIGN_OR_RETURN(auto credentials, TlsCredentials(config, true));
    IMPRINT_ASSIGN_OR_RETURN(s->station_gate_, GatedListener::Bind(station_address, budget.stations,
                                                                   "station listener"));
    grpc::ServerBuilder builder;
    s->station_gate_->Attach(builder, credentials);
    builder.RegisterService(s->service_.get());
    builder.RegisterService(s->issue_stream_.get());
    ApplyConnectionLimits(builder, kStationIdleMs, 0);
    // Handlers block on the HSM and on the group commit, so many calls are in flight at once.
    // With gRPC's default of 2 pollers every finished handler thread beyond 2 exits and a new
    // one is created for the next call: thread churn that cost about a fifth of the CA's CPU
    // per certificate at 16 concurrent stations (imprint-bench issue, alternating runs: 1,200
    // and 1,162 us with 2 pollers, 997 and 895 us with 32).
    if (config.threads > 0) {
      builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                                  config.threads);
    }
    s->stations_server_ = builder.BuildAndStart();
    if (!s->stations_server_) {
      return Fail(Code::kUnavailable, "cannot serve stations on " + station_address);
    }
    s->station_gate_->Start();
    int port = s->station_gate_->port();
    s->station_address_ = ListenHost(station_address) + ":" + std::to_string(port);
    s->service_->set_station_port(static_cast<uint32_t>(port));
  }
  {
    IMPRINT_ASSIGN_OR_RETURN(auto credentials, TlsCredentials(config, false));
    IMPRINT_ASSIGN_OR_RETURN(s->open_gate_,
                             GatedListener::Bind(open_address, budget.open, "open listener"));
    grpc::ServerBuilder builder;
    s->open_gate_->Attach(builder, credentials);
    builder.RegisterService(s->enrollment_.get());
    ApplyConnectionLimits(builder, kOpenIdleMs, kOpenAgeMs);
    // Enrollment is rare: a small fixed pool, so a flood of calls cannot take threads from
    // the stations' listener.
    grpc::ResourceQuota quota("imprint-open-listener");
    quota.SetMaxThreads(8);
    builder.SetResourceQuota(quota);
    s->open_server_ = builder.BuildAndStart();
    if (!s->open_server_) return Fail(Code::kUnavailable, "cannot serve on " + open_address);
    s->open_gate_->Start();
    s->address_ = ListenHost(open_address) + ":" + std::to_string(s->open_gate_->port());
  }
  Writer* writer = s->writer_.get();
  IMPRINT_ASSIGN_OR_RETURN(s->crl_sources_, LoadCrlSources(s->config_, *s->hsm_, s->certs_));
  s->crl_keeper_ =
      std::make_unique<CrlKeeper>(s->config_, *s->reads_, s->crl_sources_.lists,
                                  [writer](const WriteOp& op) { return writer->Submit(op); });
  if (!config.http_listen.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(s->ocsp_identity_, LoadOcspIdentity(config, *s->hsm_, s->certs_));
    OcspResponderOptions options;
    options.signer = s->ocsp_identity_.signer.get();
    options.responder = s->ocsp_identity_.certificate.get();
    options.issuer = s->certs_.issuing.get();
    IMPRINT_ASSIGN_OR_RETURN(s->root_ocsp_identity_,
                             LoadRootOcspIdentity(config, *s->hsm_, s->certs_));
    if (s->root_ocsp_identity_) {
      options.root = s->certs_.root.get();
      options.root_responder = s->root_ocsp_identity_->certificate.get();
    }
    options.validity_minutes = config.ocsp_validity_minutes;
    options.signs_per_second = config.ocsp_signs_per_second;
    s->ocsp_ = std::make_unique<OcspResponder>(*s->reads_, options);
    s->allowances_->set_ocsp_responder(s->ocsp_identity_.certificate.get());
    IMPRINT_ASSIGN_OR_RETURN(
        s->revocation_http_,
        RevocationHttpServer::Start(config.http_listen, *s->crl_keeper_, *s->ocsp_));
  }
  if (!config.console_listen.empty()) {
    ConsoleOptions console;
    console.metrics = &s->metrics_;
    console.auth_failures = &s->authority_->auth_failures();
    CaServer* raw = s.get();
    console.scrape = [raw] {
      return raw->metrics_.Scrape(*raw->reads_, raw->hsm_->pool().reopened());
    };
    console.reads = s->reads_.get();
    console.write = [raw](const WriteOp& op) { return raw->writer_->Submit(op); };
    IMPRINT_ASSIGN_OR_RETURN(s->console_, ConsoleServer::Start(s->config_, std::move(console)));
  }
  if (!config.est_listen.empty()) {
    IMPRINT_ASSIGN_OR_RETURN(s->est_, EstServer::Start(s->config_, *s->authority_, *s->reads_));
  }
  // Last: it reads console_.
  s->housekeeping_ = std::thread([raw = s.get()] { raw->Housekeeping(); });
  return s;
}

CaServer::~CaServer() { Shutdown(); }

void CaServer::Housekeeping() {
  std::unique_lock lock(housekeeping_mu_);
  while (!stopping_) {
    housekeeping_cv_.wait_for(lock, kHousekeepingPeriod);
    if (stopping_) break;
    lock.unlock();
    if (auto flushed = authority_->auth_failures().Flush(false); !flushed) {
      LogWarning("authentication failures not yet audited: " + flushed.error().message());
    }
    if (console_) {
      if (auto flushed = console_->FlushDenials(false); !flushed) {
        LogWarning("console refusals not yet audited: " + flushed.error().message());
      }
    }
    lock.lock();
  }
}

void CaServer::Shutdown() {
  if (housekeeping_.joinable()) {
    {
      std::lock_guard lock(housekeeping_mu_);
      stopping_ = true;
    }
    housekeeping_cv_.notify_all();
    housekeeping_.join();
  }
  est_.reset();
  console_.reset();
  revocation_http_.reset();
  ocsp_.reset();
  crl_keeper_.reset();
  for (auto* gate : {&open_gate_, &station_gate_}) {
    if (*gate) (*gate)->Stop();  // no new connections while the servers drain
  }
  if (issue_stream_) issue_stream_->EndStreams();
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(5);
  for (auto* server : {&open_server_, &stations_server_}) {
    if (*server) {
      (*server)->Shutdown(deadline);
      (*server)->Wait();
      server->reset();
    }
  }
  if (authority_ && writer_) {
    if (auto flushed = authority_->auth_failures().Flush(true); !flushed) {
      LogWarning("authentication failures lost at shutdown: " + flushed.error().message());
    }
  }
  writer_.reset();  // drains queued writes and seals the audit log
  upkeep_.reset();
}

void CaServer::Wait() {
  if (stations_server_) stations_server_->Wait();
}

Status ServeUntilSignal(const CaConfig& config, const std::string& listen,
                        const std::string& station_listen) {
  sigset_t signals = BlockTerminationSignals();
  IMPRINT_ASSIGN_OR_RETURN(uint64_t files, RaiseOpenFileLimit());
  if (files < 4096) {
    LogWarning("open-file limit is " + std::to_string(files) +
               "; each connection takes one, raise the hard limit (LimitNOFILE) for a busy CA");
  }
  static std::atomic<bool> listener_lost{false};
  rpc::RouteGrpcLogs([] {
    listener_lost = true;
    ::kill(::getpid(), SIGTERM);  // wakes WaitForTermination below
  });
  IMPRINT_ASSIGN_OR_RETURN(auto server, CaServer::Start(config, listen, station_listen));
  std::printf("listening on %s\n", server->address().c_str());
  std::printf("stations on %s\n", server->station_address().c_str());
  if (!server->revocation_address().empty()) {
    std::printf("status on http://%s\n", server->revocation_address().c_str());
  }
  if (!server->console_address().empty()) {
    std::printf("console on https://%s\n", server->console_address().c_str());
  }
  if (!server->est_address().empty()) {
    std::printf("est on https://%s\n", server->est_address().c_str());
  }
  std::fflush(stdout);
  // systemd Type=notify: ready once every listener is bound (a no-op elsewhere).
  sd_notify(0, "READY=1");
  LogInfo("imprint-ca serving enrollment on " + server->address() + ", stations on " +
          server->station_address() + " (open-file limit " + std::to_string(files) + ")");
  int received = WaitForTermination(signals);
  if (listener_lost) {
    LogError(
        "a listener stopped accepting connections (accept failed, see above); shutting "
        "down so that the supervisor restarts the CA");
    server->Shutdown();
    return Fail(Code::kUnavailable,
                "listener lost (accept failed: out of file descriptors?); restart the CA");
  }
  LogInfo("imprint-ca shutting down (signal " + std::to_string(received) + ")");
  sd_notify(0, "STOPPING=1");
  server->Shutdown();
  return {};
}

}  // namespace imprint::ca
