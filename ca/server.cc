#include "ca/server.h"

#include <signal.h>

#include <openssl/crypto.h>

#include <cstdio>
#include <thread>

#include "ca/admin_session.h"
#include "ca/audit_start.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/file_util.h"

namespace imprint::ca {
namespace {

constexpr int kMaxMessageBytes = 256 * 1024;

Result<std::shared_ptr<grpc::ServerCredentials>> TlsCredentials(const CaConfig& config) {
  IMPRINT_ASSIGN_OR_RETURN(std::string key, ReadWholeFile(config.TlsKeyPath()));
  IMPRINT_ASSIGN_OR_RETURN(std::string cert, ReadWholeFile(config.TlsCertPath()));
  IMPRINT_ASSIGN_OR_RETURN(std::string chain, ReadWholeFile(config.ChainPemPath()));
  // The client certificate is requested but verified by Authority, so a bad or missing one
  // gets UNAUTHENTICATED (and an audit record) instead of a silent handshake failure, and
  // enrollment works without one. TLS still proves the client holds the certificate's key.
  grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  options.pem_root_certs = chain;
  options.pem_key_cert_pairs.push_back({key, cert});
  OPENSSL_cleanse(key.data(), key.size());
  return grpc::SslServerCredentials(options);
}

}  // namespace

Result<std::unique_ptr<CaServer>> CaServer::Start(const CaConfig& config,
                                                  const std::string& listen) {
  std::unique_ptr<CaServer> s(new CaServer());
  s->config_ = config;
  IMPRINT_ASSIGN_OR_RETURN(s->certs_, CaCertificates::Load(config));
  IMPRINT_ASSIGN_OR_RETURN(s->hsm_, CaHsm::Open(config));
  IMPRINT_RETURN_IF_ERROR(s->hsm_->LoadKeys(false));
  IMPRINT_ASSIGN_OR_RETURN(auto write_db, OpenCaWriteDatabase(config));
  s->anchor_ = std::make_unique<AuditAnchor>(s->hsm_->pool(), config.AuditLockPath());
  SealPolicy seal{&s->hsm_->audit(), s->anchor_.get(), config.checkpoint_every};
  IMPRINT_RETURN_IF_ERROR(VerifyBeforeWriting(*write_db, seal, "serve"));
  IMPRINT_ASSIGN_OR_RETURN(s->checkpointer_, sql::Checkpointer::Start(config.DatabasePath()));
  IMPRINT_ASSIGN_OR_RETURN(s->reads_, sql::ConnectionPool::Open(config.DatabasePath(), 8));
  s->writer_ = std::make_unique<Writer>(std::move(write_db), seal);
  s->authority_ = std::make_unique<Authority>(s->config_, *s->hsm_, s->certs_, *s->reads_,
                                              *s->writer_);
  s->service_ = std::make_unique<CaService>(*s->authority_);
  IMPRINT_ASSIGN_OR_RETURN(auto credentials, TlsCredentials(config));

  std::string address = listen.empty() ? config.listen : listen;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, credentials, &port);
  builder.RegisterService(s->service_.get());
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  // Handlers block on the HSM and on the group commit, so many calls are in flight at once.
  // With gRPC's default of 2 pollers every finished handler thread beyond 2 exits and a new
  // one is created for the next call: thread churn that cost about a fifth of the CA's CPU per
  // certificate at 16 concurrent stations (imprint-bench issue, alternating runs: 1,200 and
  // 1,162 us with 2 pollers, 997 and 895 us with 32).
  if (config.threads > 0) {
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, config.threads);
  }
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || port == 0) return Fail(Code::kUnavailable, "cannot listen on " + address);
  s->address_ = ListenHost(address) + ":" + std::to_string(port);
  return s;
}

CaServer::~CaServer() { Shutdown(); }

void CaServer::Shutdown() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server_->Wait();
    server_.reset();
  }
  writer_.reset();  // drains queued writes and seals the audit log
  checkpointer_.reset();
}

void CaServer::Wait() {
  if (server_) server_->Wait();
}

Status ServeUntilSignal(const CaConfig& config, const std::string& listen) {
  sigset_t signals = BlockTerminationSignals();
  IMPRINT_ASSIGN_OR_RETURN(auto server, CaServer::Start(config, listen));
  std::printf("listening on %s\n", server->address().c_str());
  std::fflush(stdout);
  LogInfo("imprint-ca serving on " + server->address());
  int received = WaitForTermination(signals);
  LogInfo("imprint-ca shutting down (signal " + std::to_string(received) + ")");
  server->Shutdown();
  return {};
}

}  // namespace imprint::ca
