#pragma once
// OfflineIssuers: the subordinate CAs of allowances (docs/offline.md) whose stations delegated
// OCSP to this CA's responder key, so the responder can answer for devices a station signed
// offline. Read from the store; read again when a CertID names an issuer not known yet and the
// store holds more delegates than were read (delegates are only ever added), so a request about
// an unknown issuer costs one COUNT and nothing more.
// Thread-safe.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/sql/connection_pool.h"
#include "common/x509/ocsp.h"

namespace imprint::ca {

struct OfflineIssuer {
  std::string allowance_id;
  Bytes subordinate_der;  // the issuer of the allowance's devices
  Bytes delegate_der;     // the responder's certificate from that issuer
  x509::IssuerHashesByNid hashes;
};

class OfflineIssuers {
 public:
  explicit OfflineIssuers(sql::ConnectionPool& reads) : reads_(reads) {}

  // The allowance whose subordinate issued what `id` asks about; null when none has delegated.
  Result<std::shared_ptr<const OfflineIssuer>> Find(const x509::OcspCertId& id);

 private:
  std::shared_ptr<const OfflineIssuer> Known(const x509::OcspCertId& id);
  Status Reload();

  sql::ConnectionPool& reads_;
  std::mutex mu_;
  std::vector<std::shared_ptr<const OfflineIssuer>> issuers_;  // guarded by mu_
};

}  // namespace imprint::ca
