#pragma once
// `imprint-station allowance fetch` at the CA (docs/offline.md): a station with a live
// allowance sends a CSR for the subordinate key it made in its own token; the root certifies
// that key as a CA for this order and station only (path length 0, the device profile's
// extended key usage, notAfter at the allowance's end) and the document signer signs the
// allowance (issuer.h). Both
// are stored with the allowance and audited as allowance.fetched. One key per allowance: a
// second fetch with the same key returns what the first got; another key is refused.
//
// Thread-safe: called from gRPC handler threads.

#include <mutex>
#include <optional>
#include <string>

#include "ca/allowance/allowance.h"
#include "ca/allowance/issuer.h"
#include "ca/audit/writer.h"
#include "ca/ca_files.h"
#include "ca/config.h"
#include "ca/hsm.h"
#include "common/sql/connection_pool.h"

namespace imprint::ca {

struct FetchedAllowance {
  Allowance allowance;
  Bytes subordinate_der;
  Bytes root_der;
  std::string signed_allowance;  // JWS, flattened JSON serialization
};

class AllowanceDesk {
 public:
  AllowanceDesk(const CaConfig& config, CaHsm& hsm, const CaCertificates& certs,
                sql::ConnectionPool& reads, Writer& writer)
      : config_(config), hsm_(hsm), certs_(certs), reads_(reads), writer_(writer) {}

  // NOT_FOUND: the station holds no live allowance for the order; FAILED_PRECONDITION: it has
  // expired, its order is closed, the key certified another allowance before, or the root key
  // is not in this CA's token; ALREADY_EXISTS: the allowance was fetched
  // for another key; INVALID_ARGUMENT: a bad order id or CSR.
  Result<FetchedAllowance> Fetch(const std::string& station, const std::string& order_id,
                                 ByteView csr_der);

 private:
  Result<AllowanceIssuer*> Issuer();

  const CaConfig& config_;
  CaHsm& hsm_;
  const CaCertificates& certs_;
  sql::ConnectionPool& reads_;
  Writer& writer_;

  std::mutex issuer_mu_;
  std::optional<AllowanceIssuer> issuer_;  // guarded by issuer_mu_; loaded at the first fetch
};

}  // namespace imprint::ca
