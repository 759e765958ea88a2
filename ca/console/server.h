#pragma once
// ConsoleServer: the CA's HTTPS listener for people and monitoring ([console] listen), with
// the CA's own TLS identity (tls-cert.pem, tls-key.pem). It serves the supervisor's console
// (pages and JSON API: ca/console_routes.h), and `GET /metrics` to a
// Prometheus that presents the bearer token from [console] metrics_token_file; a wrong or
// missing token is 401 and counted like any failed authentication (AuthFailures: audited in
// aggregate, never per attempt). Every response carries strict security headers (no script
// sources, no framing, no caching, HSTS). docs/console.md.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "ca/auth_failures.h"
#include "ca/config.h"
#include "ca/console/metrics.h"
#include "ca/console/routes.h"
#include "ca/console/sessions.h"
#include "ca/http/server.h"
#include "common/secret.h"

namespace imprint::ca {

struct ConsoleOptions {
  CaMetrics* metrics = nullptr;
  // The metrics text for a scrape (CaMetrics::Scrape with the server's store and token).
  std::function<Result<std::string>()> scrape;
  AuthFailures* auth_failures = nullptr;
  sql::ConnectionPool* reads = nullptr;
  std::function<Status(const WriteOp&)> write;  // the serving CA's writer
};

class ConsoleServer {
 public:
  static Result<std::unique_ptr<ConsoleServer>> Start(const CaConfig& config,
                                                      ConsoleOptions options);
  ~ConsoleServer();  // stops listening; requests in flight finish first; writes counted refusals
  // Writes the viewers' refusals counted in windows that have ended (all when `everything`).
  Status FlushDenials(bool everything);
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  const std::string& address() const { return address_; }  // HOST:PORT actually bound

 private:
  ConsoleServer() = default;
  // Verifies the whole audit log (as `audit verify` does) now and every 10 minutes, for the
  // audit page.
  void VerifyAuditLoop();

  ConsoleOptions options_;
  CaConfig config_;
  std::unique_ptr<SessionStore> sessions_;
  LoginLimiter limiter_;
  std::unique_ptr<AuthFailures> denials_;
  ConsoleContext context_;
  std::mutex verify_mu_;
  std::condition_variable verify_cv_;
  bool stopping_ = false;        // guarded by verify_mu_
  nlohmann::json verification_;  // guarded by verify_mu_
  std::thread verify_thread_;
  Secret metrics_token_;
  std::unique_ptr<http::Server> server_;
  std::string address_;
};

}  // namespace imprint::ca
