#pragma once
// ConsoleServer: the CA's HTTPS listener for people and monitoring ([console] listen), with
// the CA's own TLS identity (tls-cert.pem, tls-key.pem). It serves `GET /metrics` to a
// Prometheus that presents the bearer token from [console] metrics_token_file; a wrong or
// missing token is 401 and counted like any failed authentication (AuthFailures: audited in
// aggregate, never per attempt). Every response carries strict security headers (no script
// sources, no framing, no caching, HSTS). docs/console.md.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "ca/auth_failures.h"
#include "ca/config.h"
#include "ca/metrics.h"
#include "common/secret.h"

namespace httplib {
class SSLServer;
}

namespace imprint::ca {

struct ConsoleOptions {
  CaMetrics* metrics = nullptr;
  // The metrics text for a scrape (CaMetrics::Scrape with the server's store and token).
  std::function<Result<std::string>()> scrape;
  AuthFailures* auth_failures = nullptr;
};

class ConsoleServer {
 public:
  static Result<std::unique_ptr<ConsoleServer>> Start(const CaConfig& config,
                                                      ConsoleOptions options);
  ~ConsoleServer();  // stops listening; requests in flight finish first
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  const std::string& address() const { return address_; }  // HOST:PORT actually bound

 private:
  ConsoleServer() = default;
  ConsoleOptions options_;
  Secret metrics_token_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::string address_;
  std::thread thread_;
};

}  // namespace imprint::ca
