#pragma once
// EstServer: the CA's EST listener (RFC 7030; docs/est.md) on [est] listen, HTTPS with the
// CA's TLS identity, asking every client for a certificate.
//
//   GET  /.well-known/est[/LABEL]/cacerts        the issuing CA and the root, certs-only
//   GET  /.well-known/est[/LABEL]/csrattrs       204: no attributes asked for
//   POST /.well-known/est[/LABEL]/simpleenroll   a station enrolls a device's CSR
//   POST /.well-known/est[/LABEL]/simplereenroll the same (strongSwan's pki posts here)
//
// A station authenticates with its station certificate in the TLS handshake; the device is
// the CSR's CN; the order is LABEL, or the one open order the station serves. The issuance is
// IssueDeviceCertificate's, with its rules, quota, duplicate checks and audit; the answer
// carries the device's challenge (X-Imprint-Challenge) for the proof the station reports over
// gRPC, as after the gRPC call. Errors are short, with the HTTP status of their kind; nothing
// internal leaves.

#include <memory>
#include <string>

#include "ca/authority.h"
#include "ca/config.h"
#include "ca/http/server.h"
#include "common/sql/connection_pool.h"

namespace imprint::ca {

class EstServer {
 public:
  static Result<std::unique_ptr<EstServer>> Start(const CaConfig& config, Authority& authority,
                                                  sql::ConnectionPool& reads);
  const std::string& address() const { return address_; }

 private:
  EstServer(Authority& authority, sql::ConnectionPool& reads)
      : authority_(authority), reads_(reads) {}
  void CaCerts(http::Response& response) const;
  void Enroll(const http::Request& request, const std::string& label, http::Response& response);
  // The order a station's request is for: `label`, or the one open order it serves.
  Result<std::string> OrderFor(const std::string& station, const std::string& label);

  Authority& authority_;
  sql::ConnectionPool& reads_;
  std::string address_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace imprint::ca
