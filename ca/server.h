#pragma once
// CaServer: `imprint-ca serve`. Opens the token and the database, starts the writer and two
// gRPC listeners, each with the standard health service:
// - the open listener (`listen`): server-authenticated TLS, EnrollStation and GetCaChain only;
// - the station listener (`station_listen`): the TLS handshake requires a client certificate
//   from this CA, and every call then authenticates the station from it.
// Peers that fail authentication are counted (AuthFailures) and audited in aggregate by a
// housekeeping thread; idle and half-open connections are dropped by gRPC's connection limits.
// Before it serves it runs VerifyBeforeWriting: a database the HSM anchor does not vouch for,
// or a log that fails verification, is refused (DATA_LOSS) and nothing is sealed; an unsealed
// tail left by a crash is verified and sealed.
// While it serves, a CrlKeeper keeps the CRL current (ca/crl_keeper.h), and with [status]
// http_listen a RevocationHttpServer publishes it and answers OCSP (ca/revocation/http_server.h),
// and with [console] listen a ConsoleServer serves the metrics over HTTPS (ca/console_server.h).
// Shutdown stops accepting calls, finishes those in flight, and seals the audit log.

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ca/audit/writer.h"
#include "ca/authority.h"
#include "ca/ca_files.h"
#include "ca/config.h"
#include "ca/console/metrics.h"
#include "ca/console/server.h"
#include "ca/est/server.h"
#include "ca/hsm.h"
#include "ca/issue_stream_service.h"
#include "ca/net/gated_listener.h"
#include "ca/revocation/crl_keeper.h"
#include "ca/revocation/http_server.h"
#include "ca/revocation/ocsp_identity.h"
#include "ca/service.h"
#include "ca/store/store.h"

namespace imprint::ca {

class CaServer {
 public:
  // `listen` and `station_listen` override the configuration when not empty.
  static Result<std::unique_ptr<CaServer>> Start(const CaConfig& config, const std::string& listen,
                                                 const std::string& station_listen = "");
  ~CaServer();

  // "HOST:PORT" actually bound (port 0 resolved): the open listener and the station listener.
  const std::string& address() const { return address_; }
  const std::string& station_address() const { return station_address_; }
  // "HOST:PORT" of the HTTP status listener; empty when [status] http_listen is not set.
  std::string revocation_address() const {
    return revocation_http_ ? revocation_http_->address() : "";
  }
  // "HOST:PORT" of the HTTPS console; empty when [console] listen is not set.
  std::string console_address() const { return console_ ? console_->address() : ""; }
  std::string est_address() const { return est_ ? est_->address() : ""; }
  CaMetrics& metrics() { return metrics_; }
  Authority& authority() { return *authority_; }
  void Shutdown();
  void Wait();

 private:
  CaServer() = default;
  void Housekeeping();

  CaConfig config_;
  std::unique_ptr<CaHsm> hsm_;
  std::unique_ptr<AuditAnchor> anchor_;
  CaCertificates certs_;
  std::unique_ptr<sql::ConnectionPool> reads_;
  std::unique_ptr<StoreUpkeep> upkeep_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<Authority> authority_;
  CrlSources crl_sources_;  // the keys crl_keeper_ signs with
  std::unique_ptr<CrlKeeper> crl_keeper_;
  OcspIdentity ocsp_identity_;
  std::optional<OcspIdentity> root_ocsp_identity_;  // when the root key is in the token
  std::unique_ptr<OcspResponder> ocsp_;
  std::unique_ptr<RevocationHttpServer> revocation_http_;
  CaMetrics metrics_;
  std::unique_ptr<ConsoleServer> console_;
  std::unique_ptr<EstServer> est_;
  std::unique_ptr<AllowanceDesk> allowances_;
  std::unique_ptr<CaService> service_;
  std::unique_ptr<IssueStreamService> issue_stream_;
  std::unique_ptr<EnrollmentService> enrollment_;
  std::unique_ptr<GatedListener> station_gate_;
  std::unique_ptr<GatedListener> open_gate_;
  std::unique_ptr<grpc::Server> stations_server_;
  std::unique_ptr<grpc::Server> open_server_;
  std::string address_;
  std::string station_address_;

  std::mutex housekeeping_mu_;
  std::condition_variable housekeeping_cv_;
  bool stopping_ = false;
  std::thread housekeeping_;
};

// Serves until SIGINT or SIGTERM, printing "listening on HOST:PORT" then "stations on
// HOST:PORT" once ready. Blocks the signals in all threads first, so call it before starting
// any other thread. Raises the open-file limit first. UNAVAILABLE (a non-zero exit, so a
// supervisor restarts the CA) when gRPC reports that a listener stopped accepting.
Status ServeUntilSignal(const CaConfig& config, const std::string& listen,
                        const std::string& station_listen);

}  // namespace imprint::ca
