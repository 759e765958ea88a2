#pragma once
// CaServer: `imprint-ca serve`. Opens the token and the database, starts the writer and the
// gRPC server (TLS with an optional client certificate: EnrollStation and GetCaChain need none,
// every other RPC authenticates the station from it) plus the standard health service.
// Before it serves it runs VerifyBeforeWriting: a database the HSM anchor does not vouch for,
// or a log that fails verification, is refused (DATA_LOSS) and nothing is sealed; an unsealed
// tail left by a crash is verified and sealed.
// Shutdown stops accepting calls, finishes those in flight, and seals the audit log.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "ca/authority.h"
#include "ca/ca_files.h"
#include "ca/config.h"
#include "ca/hsm.h"
#include "ca/service.h"
#include "ca/writer.h"
#include "common/sqlite/checkpointer.h"

namespace imprint::ca {

class CaServer {
 public:
  // `listen` overrides config.listen when not empty.
  static Result<std::unique_ptr<CaServer>> Start(const CaConfig& config, const std::string& listen);
  ~CaServer();

  // "HOST:PORT" actually bound (port 0 resolved).
  const std::string& address() const { return address_; }
  void Shutdown();
  void Wait();

 private:
  CaServer() = default;

  CaConfig config_;
  std::unique_ptr<CaHsm> hsm_;
  std::unique_ptr<AuditAnchor> anchor_;
  CaCertificates certs_;
  std::unique_ptr<sql::ConnectionPool> reads_;
  std::unique_ptr<sql::Checkpointer> checkpointer_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<Authority> authority_;
  std::unique_ptr<CaService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

// Serves until SIGINT or SIGTERM, printing "listening on HOST:PORT" once ready. Blocks the
// signals in all threads first, so call it before starting any other thread.
Status ServeUntilSignal(const CaConfig& config, const std::string& listen);

}  // namespace imprint::ca
