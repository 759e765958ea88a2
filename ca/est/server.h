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
// gRPC, as after the gRPC call.
// A device authenticates with its factory certificate or an operational one it renewed, and
// gets an operational certificate under LABEL as profile (default [est] operational_profile):
// Authority::RenewDevice's rules, at most [est] reenroll_per_hour a device (429 beyond).
// Errors are short, with the HTTP status of their kind; nothing internal leaves.

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
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
  EstServer(const CaConfig& config, Authority& authority, sql::ConnectionPool& reads)
      : config_(config), authority_(authority), reads_(reads) {}
  void CaCerts(http::Response& response) const;
  void Enroll(const http::Request& request, const std::string& label, http::Response& response);
  void Renew(const http::Request& request, const std::string& label, const DevicePeer& device,
             http::Response& response);
  // Counts a re-enrollment of `device`; false once it had reenroll_per_hour in the last hour.
  bool AllowReenroll(const std::string& device);
  // The order a station's request is for: `label`, or the one open order it serves.
  Result<std::string> OrderFor(const std::string& station, const std::string& label);

  const CaConfig& config_;
  Authority& authority_;
  sql::ConnectionPool& reads_;
  std::mutex rate_mu_;
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>> reenrolls_;
  std::string address_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace imprint::ca
