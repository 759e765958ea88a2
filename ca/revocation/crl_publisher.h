#pragma once
// The CA's CRLs, each built from the store's revocations, recorded in the store (one current CRL
// of each list for every node, its number only growing) and written to
// <state_dir>/crl/<list>.crl (DER) and <list>.crl.pem, each replaced atomically:
//   issuing: the issuing CA's devices and stations; direct, signed by the issuing key (crl_state);
//   offline: devices stations signed under allowances; an indirect CRL (RFC 5280 5.2.5) signed
//            by the issuing key, each entry naming its subordinate (docs/offline.md);
//   root:    the allowances' revoked subordinate CAs; signed by the root key.
// One change counter (crl_state.changes) tells all three when the revocations changed. A
// revoked Matter DAC is on none of them: its issuer is a PAI (docs/matter.md, "Revocation").

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

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

enum class CrlList { kIssuing, kOffline, kRoot };
inline constexpr CrlList kCrlLists[] = {CrlList::kIssuing, CrlList::kOffline, CrlList::kRoot};
std::string_view CrlListName(CrlList list);  // "issuing", "offline", "root": file and URL name

struct CrlSigner {
  x509::Signer* signer = nullptr;  // the issuing key; the root key for kRoot
  const X509* issuer = nullptr;    // its certificate
};

// The store's current CRL of `list` (number 0 when there is none).
Result<CrlInfo> CurrentCrl(sql::Database& db, CrlList list = CrlList::kIssuing);

// Publishes a new CRL when the store's is stale (revocations changed since), past half its
// validity, or `force`; returns the store's current CRL either way, with its DER when this call
// published it or another node just did, and without (der empty) when it was current already
// (a million-entry CRL is some 49 MB: not read every second). Another node publishing
// at the same time is not an error: its CRL is returned. Audited as crl.issued by `actor`.
// crl.issued names the list.
Result<CrlInfo> PublishCrl(const CaConfig& config, sql::Database& read, CrlList list,
                           const CrlSigner& signer, const WriteFn& write, const std::string& actor,
                           bool force);

// <state_dir>/crl/<list>.crl; ".pem" beside it.
std::string CrlPath(const CaConfig& config, CrlList list = CrlList::kIssuing);
Status WriteCrlFiles(const CaConfig& config, CrlList list, const CrlInfo& crl);

}  // namespace imprint::ca
