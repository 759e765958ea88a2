#pragma once
// The CA's CRL: built from the store's revocations (devices' and stations'), signed by the
// issuing key in the HSM, recorded in the store (crl_state: one current CRL for every node,
// its number only growing) and written to <state_dir>/crl/issuing.crl (DER) and
// issuing.crl.pem, each replaced atomically.

#include <cstdint>
#include <functional>
#include <string>

#include "ca/audit/write_context.h"
#include "ca/config.h"
#include "common/bytes.h"
#include "common/error.h"
#include "common/sql/database.h"
#include "common/x509/openssl_types.h"
#include "common/x509/signer.h"

namespace imprint::ca {

struct CrlInfo {
  uint64_t number = 0;  // 0: none published yet
  int64_t entries = 0;
  int64_t this_update_ms = 0, next_update_ms = 0;
  Bytes der;
};

// Runs a write operation in the store's write transaction (the serving Writer, or an admin
// command's session).
using WriteFn = std::function<Status(const std::function<Status(WriteContext&)>&)>;

struct CrlSigner {
  x509::Signer* signer = nullptr;  // the issuing key
  const X509* issuer = nullptr;    // the issuing certificate
};

// The store's current CRL (number 0 when there is none).
Result<CrlInfo> CurrentCrl(sql::Database& db);

// Publishes a new CRL when the store's is stale (revocations changed since), past half its
// validity, or `force`; returns the store's current CRL either way, with its DER when this call
// published it or another node just did, and without (der empty) when it was current already
// (a million-entry CRL is some 49 MB: not read every second). Another node publishing
// at the same time is not an error: its CRL is returned. Audited as crl.issued by `actor`.
Result<CrlInfo> PublishCrl(const CaConfig& config, sql::Database& read, const CrlSigner& signer,
                           const WriteFn& write, const std::string& actor, bool force);

std::string CrlPath(const CaConfig& config);  // <state_dir>/crl/issuing.crl; ".pem" beside it
Status WriteCrlFiles(const CaConfig& config, const CrlInfo& crl);

}  // namespace imprint::ca
