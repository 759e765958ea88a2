#pragma once
// OfflineIssuers: the subordinate CAs of allowances (docs/offline.md) whose stations delegated
// OCSP to this CA's responder key, so the responder can answer for devices a station signed
// offline. Read from the store; read again when the store holds more delegates or renewed
// subordinates than were read (both are only ever added), which each request about an offline
// issuer asks with one COUNT.
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
  Bytes renewed_der;      // the subordinate certified again without end; empty until renewed
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
  int64_t loaded_ = -1;  // delegates plus renewals when issuers_ was read; guarded by mu_
};

}  // namespace imprint::ca
